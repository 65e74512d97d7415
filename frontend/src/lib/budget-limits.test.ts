import { describe, expect, it } from 'vitest';
import { budgetIssues, parseCostLimit, parseTokenLimit } from './budget-limits';

describe('budget limits as typed', () => {
  it('read empty as no limit, and say what is wrong with a bad one', () => {
    expect(parseCostLimit('  ')).toEqual({ value: undefined, error: null });
    expect(parseCostLimit('2.50')).toEqual({ value: 2.5, error: null });
    expect(parseCostLimit('0').error).toBe('Enter an amount above 0');
    expect(parseCostLimit('abc').error).toBe('Enter an amount above 0');
    expect(parseTokenLimit('40000')).toEqual({ value: 40_000, error: null });
    expect(parseTokenLimit('1.5').error).toBe('Enter a whole number of at least 1');
    expect(parseTokenLimit('0').error).toBe('Enter a whole number of at least 1');
  });

  it("put a 422's budget issues on their fields, where the request body has them", () => {
    const price = { loc: ['body', 'budget', 'max_cost_usd'], msg: 'no price' };
    const input = { loc: ['inputs', 'topic'], msg: 'Field required' };
    expect(budgetIssues([price, input], ['budget'])).toEqual({ budget: { max_cost_usd: ['no price'] }, rest: [input] });
    // A raise's body is the budget itself.
    expect(budgetIssues([price], [])).toEqual({ budget: {}, rest: [price] });
    expect(budgetIssues([{ loc: ['body', 'max_tokens'], msg: 'too small' }], [])).toEqual({
      budget: { max_tokens: ['too small'] },
      rest: [],
    });
  });
});
