import type { TokenUsage } from '../../api/types';
import { formatCount, formatUsd } from '../../lib/usage-format';

/** What a step's LLM calls used and cost, each call once (a retry's replayed calls are not paid twice). */
export function StepUsage({ usage }: { usage: TokenUsage }) {
  return (
    <section aria-labelledby="step-usage-title">
      <h3 className="section-title" id="step-usage-title">
        Usage
      </h3>
      <dl className="facts">
        <dt>Prompt tokens</dt>
        <dd>{formatCount(usage.prompt_tokens)}</dd>
        <dt>Completion tokens</dt>
        <dd>{formatCount(usage.completion_tokens)}</dd>
        <dt>Cached tokens</dt>
        <dd>{formatCount(usage.cached_tokens)}</dd>
        <dt>Total tokens</dt>
        <dd>{formatCount(usage.total_tokens)}</dd>
        <dt>LLM calls</dt>
        <dd>{formatCount(usage.llm_calls)}</dd>
        <dt>Cost</dt>
        <dd title={`${usage.cost_micros} micro-dollars`}>{formatUsd(usage.cost_micros)}</dd>
      </dl>
    </section>
  );
}
