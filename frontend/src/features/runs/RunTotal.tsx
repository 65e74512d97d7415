import type { TokenUsage } from '../../api/types';
import { formatCount, formatTokens, formatUsd } from '../../lib/usage-format';

/** The run's tokens and cost so far, its child runs included, in its header. */
export function RunTotal({ usage }: { usage: TokenUsage }) {
  return (
    <p className="small run-total" aria-label="Run total">
      <span title={`${formatCount(usage.total_tokens)} tokens`}>{formatTokens(usage.total_tokens)} tokens</span>
      {' · '}
      <span title={`${usage.cost_micros} micro-dollars`}>{formatUsd(usage.cost_micros)}</span>
      {' · '}
      {formatCount(usage.llm_calls)} LLM {usage.llm_calls === 1 ? 'call' : 'calls'}
    </p>
  );
}
