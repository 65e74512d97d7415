import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage } from '../../api/client';
import type { RunBudget, RunBudgetRaise } from '../../api/types';
import { Field } from '../../components/Field';
import { UsdField } from '../../components/UsdField';
import { Notice } from '../../components/Notice';
import { budgetIssues, parseCostLimit, parseTokenLimit, type BudgetMessages } from '../../lib/budget-limits';
import { formatCount, formatUsd } from '../../lib/usage-format';

/** The run's limits in a sentence: "$2.50 and 40,000 tokens". */
function limitsText(budget: RunBudget): string {
  const cost = budget.max_cost_usd === null ? 'no cost limit' : formatUsd(Math.round(budget.max_cost_usd * 1_000_000));
  const tokens = budget.max_tokens === null ? 'no token limit' : `${formatCount(budget.max_tokens)} tokens`;
  return `${cost} and ${tokens}`;
}

interface Props {
  runId: string;
  /** The limits the run has now, once raised: the step can be retried. */
  onRaised: (budget: RunBudget) => void;
}

/** New limits for a run whose step paused over budget: either one, or both. */
export function BudgetRaise({ runId, onRaised }: Props) {
  const [cost, setCost] = useState('');
  const [tokens, setTokens] = useState('');
  const [fieldErrors, setFieldErrors] = useState<BudgetMessages>({});
  const [error, setError] = useState<string | null>(null);
  const [raised, setRaised] = useState<RunBudget | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const maxCost = parseCostLimit(cost);
    const maxTokens = parseTokenLimit(tokens);
    setError(null);
    setFieldErrors({
      max_cost_usd: maxCost.error ? [maxCost.error] : undefined,
      max_tokens: maxTokens.error ? [maxTokens.error] : undefined,
    });
    if (maxCost.error || maxTokens.error) return;
    if (maxCost.value === undefined && maxTokens.value === undefined) {
      setError('Give a new cost limit, a new token limit, or both.');
      return;
    }
    const body: RunBudgetRaise = { max_cost_usd: maxCost.value, max_tokens: maxTokens.value };
    setBusy(true);
    try {
      const budget = await api.raiseBudget(runId, body);
      setRaised(budget);
      onRaised(budget);
    } catch (e) {
      const issues = e instanceof ApiError ? e.issues : [];
      const { budget, rest } = budgetIssues(issues, []);
      setFieldErrors(budget);
      if (!issues.length) setError(errorMessage(e));
      else if (rest.length) setError(rest.map((issue) => `${issue.loc.join('.')}: ${issue.msg}`).join(' · '));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Raise budget">
      <UsdField
        label="Max cost (USD)"
        errors={fieldErrors.max_cost_usd}
        hint="Replaces the run's cost limit; empty keeps it."
        value={cost}
        onChange={setCost}
      />
      <Field label="Max tokens" errors={fieldErrors.max_tokens} hint="Replaces the run's token limit; empty keeps it.">
        {(control) => (
          <input
            {...control}
            className="input"
            type="number"
            inputMode="numeric"
            min="1"
            step="1"
            value={tokens}
            onChange={(e) => setTokens(e.target.value)}
          />
        )}
      </Field>
      {error && <Notice>{error}</Notice>}
      {raised && <Notice tone="info">The run's limits are now {limitsText(raised)}. Retry the step to run it again.</Notice>}
      <div className="button-row">
        <button type="submit" className="btn btn--secondary" disabled={busy} aria-busy={busy}>
          Raise budget
        </button>
      </div>
    </form>
  );
}
