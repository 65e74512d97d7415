/** Tokens and cost for people: compact on a node, exact in a panel. */
import type { TokenUsage } from '../api/types';

const MICROS_PER_USD = 1_000_000;
const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en');

/** A token count such as `842`, `12.4K` or `3.1M`. */
export function formatTokens(tokens: number): string {
  return compact.format(tokens);
}

/** An exact count with thousands separators: `12,431`. */
export function formatCount(count: number): string {
  return whole.format(count);
}

/**
 * A cost in USD from micro-dollars: cents for a dollar or more (`$12.34`), four
 * decimals below (`$0.0031`), and `$0` for nothing; a cost under a hundredth of a
 * cent shows as `<$0.0001`, never as free.
 */
export function formatUsd(micros: number): string {
  if (micros === 0) return '$0';
  const usd = micros / MICROS_PER_USD;
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  if (usd < 0.0001) return '<$0.0001';
  return `$${usd.toFixed(4)}`;
}

/** One line for a node or a header: `12.4K tokens · $0.0031`; null when no LLM call was made. */
export function usageLine(usage: Pick<TokenUsage, 'total_tokens' | 'llm_calls' | 'cost_micros'> | null | undefined): string | null {
  if (!usage || usage.llm_calls === 0) return null;
  return `${formatTokens(usage.total_tokens)} tokens · ${formatUsd(usage.cost_micros)}`;
}
