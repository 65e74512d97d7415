/**
 * Budget limits as people type them (a run's cost and tokens, the workspace's month),
 * and where the server's 422 for one belongs. The API checks them again; these checks
 * only say what is wrong before a request that would be refused.
 */
import type { ValidationIssue } from '../api/types';

/** A limit field's text read: empty gives no value, a bad one an error. */
export interface ParsedLimit {
  value: number | undefined;
  error: string | null;
}

const EMPTY: ParsedLimit = { value: undefined, error: null };

/** Dollars above zero, fractions allowed: `"2.50"` → 2.5. */
export function parseCostLimit(text: string): ParsedLimit {
  if (!text.trim()) return EMPTY;
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? { value, error: null } : { value: undefined, error: 'Enter an amount above 0' };
}

/** A whole number of tokens, at least 1. */
export function parseTokenLimit(text: string): ParsedLimit {
  if (!text.trim()) return EMPTY;
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 ? { value, error: null } : { value: undefined, error: 'Enter a whole number of at least 1' };
}

/** The budget fields a form shows errors on, by the body field the API names. */
export type BudgetField = 'max_cost_usd' | 'max_tokens';
export type BudgetMessages = Partial<Record<BudgetField, string[]>>;

const isBudgetField = (name: unknown): name is BudgetField => name === 'max_cost_usd' || name === 'max_tokens';

/**
 * Split a 422's issues into those of a budget field and the rest. `under` is where the
 * budget sits in the request body: `['budget']` for a start request (loc
 * `["body", "budget", "max_cost_usd"]`), `[]` for a raise (loc `["body", "max_tokens"]`).
 */
export function budgetIssues(
  issues: ValidationIssue[],
  under: string[],
): { budget: BudgetMessages; rest: ValidationIssue[] } {
  const budget: BudgetMessages = {};
  const rest: ValidationIssue[] = [];
  const prefix = ['body', ...under];
  for (const issue of issues) {
    const field = issue.loc[prefix.length];
    const inBudget = prefix.every((part, i) => issue.loc[i] === part) && isBudgetField(field);
    if (inBudget) (budget[field] ??= []).push(issue.msg);
    else rest.push(issue);
  }
  return { budget, rest };
}
