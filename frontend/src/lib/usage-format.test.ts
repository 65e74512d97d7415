import { describe, expect, it } from 'vitest';
import { formatTokens, formatUsd, usageLine } from './usage-format';

describe('usage formatting', () => {
  it('shortens token counts', () => {
    expect(formatTokens(842)).toBe('842');
    expect(formatTokens(12_431)).toBe('12.4K');
    expect(formatTokens(3_100_000)).toBe('3.1M');
  });

  it('shows a cost in dollars from micro-dollars, never a paid call as free', () => {
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(3_100)).toBe('$0.0031');
    expect(formatUsd(12_345_678)).toBe('$12.35');
    expect(formatUsd(7)).toBe('<$0.0001');
  });

  it('says nothing of a step that made no LLM call', () => {
    expect(usageLine({ total_tokens: 0, llm_calls: 0, cost_micros: 0 })).toBeNull();
    expect(usageLine(null)).toBeNull();
    expect(usageLine({ total_tokens: 1500, llm_calls: 2, cost_micros: 4_200 })).toBe('1.5K tokens · $0.0042');
  });
});
