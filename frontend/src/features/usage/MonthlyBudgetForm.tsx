import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage } from '../../api/client';
import type { MonthlyBudget, ValidationIssue } from '../../api/types';
import { UsdField } from '../../components/UsdField';
import { Notice } from '../../components/Notice';
import { parseCostLimit } from '../../lib/budget-limits';

interface Props {
  budget: MonthlyBudget;
  onSaved: (budget: MonthlyBudget) => void;
}

/** An admin's cap on what the workspace's LLM calls cost a month; empty removes it. */
export function MonthlyBudgetForm({ budget, onSaved }: Props) {
  const [text, setText] = useState(budget.max_cost_usd_per_month === null ? '' : String(budget.max_cost_usd_per_month));
  const [fieldErrors, setFieldErrors] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const cap = parseCostLimit(text);
    setFieldErrors(cap.error ? [cap.error] : []);
    setError(null);
    setSaved(false);
    if (cap.error) return;
    setBusy(true);
    try {
      onSaved(await api.setMonthlyBudget(cap.value ?? null));
      setSaved(true);
    } catch (e) {
      const issues = e instanceof ApiError ? e.issues : [];
      const onField = (issue: ValidationIssue) => issue.loc[0] === 'body' && issue.loc[1] === 'max_cost_usd_per_month';
      setFieldErrors(issues.filter(onField).map((issue) => issue.msg));
      const rest = issues.filter((issue) => !onField(issue));
      if (!issues.length) setError(errorMessage(e));
      else if (rest.length) setError(rest.map((issue) => `${issue.loc.join('.')}: ${issue.msg}`).join(' · '));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form form--inline" onSubmit={submit} noValidate aria-label="Monthly budget">
      <UsdField
        label="Monthly budget (USD)"
        errors={fieldErrors}
        hint="Empty: no cap. Runs pause before an LLM call that could cross it."
        value={text}
        onChange={setText}
      />
      <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
        Save monthly budget
      </button>
      {error && <Notice>{error}</Notice>}
      {saved && <Notice tone="info">Monthly budget saved.</Notice>}
    </form>
  );
}
