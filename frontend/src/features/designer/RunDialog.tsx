import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage } from '../../api/client';
import { Dialog } from '../../components/Dialog';
import { DialogActions } from '../../components/DialogActions';
import { Field } from '../../components/Field';
import { UsdField } from '../../components/UsdField';
import { Notice } from '../../components/Notice';
import { budgetIssues, parseCostLimit, parseTokenLimit, type BudgetMessages } from '../../lib/budget-limits';
import type { InputSpec } from '../../lib/definition';
import { runInputIssues } from '../../lib/validation';
import { navigate } from '../../router';

interface Props {
  workflowId: string;
  version: number;
  inputs: InputSpec[];
  /** Shown when the canvas has changes the saved version lacks. */
  unsaved: boolean;
  onClose: () => void;
}

/** Ask for the run's inputs and optional budget, start the run and open its console. */
export function RunDialog({ workflowId, version, inputs, unsaved, onClose }: Props) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(inputs.map((input) => [input.name, input.default ?? ''])),
  );
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [cost, setCost] = useState('');
  const [tokens, setTokens] = useState('');
  const [budgetErrors, setBudgetErrors] = useState<BudgetMessages>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    const maxCost = parseCostLimit(cost);
    const maxTokens = parseTokenLimit(tokens);
    setBudgetErrors({
      max_cost_usd: maxCost.error ? [maxCost.error] : undefined,
      max_tokens: maxTokens.error ? [maxTokens.error] : undefined,
    });
    if (maxCost.error || maxTokens.error) return;
    // No limit given: no budget in the request, so a definition's own budget applies.
    const budget =
      maxCost.value === undefined && maxTokens.value === undefined
        ? undefined
        : { max_cost_usd: maxCost.value, max_tokens: maxTokens.value };
    setBusy(true);
    const given = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
    try {
      const run = await api.startRun(workflowId, given, version, budget);
      navigate(`/runs/${encodeURIComponent(run.run_id)}`);
    } catch (error) {
      const issues = error instanceof ApiError ? error.issues : [];
      const { budget: onBudget, rest } = budgetIssues(issues, ['budget']);
      setBudgetErrors(onBudget);
      setErrors(issues.length ? runInputIssues(rest) : { '': [errorMessage(error)] });
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Run version ${version}`} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        {unsaved && <Notice tone="info">The canvas has unsaved changes; this runs saved version {version}.</Notice>}
        {inputs.length === 0 && <p className="muted">This workflow takes no inputs.</p>}
        {inputs.map((input) => (
          <Field
            key={input.name}
            label={input.name}
            required={input.required ?? true}
            hint={input.description || undefined}
            errors={errors[input.name]}
          >
            {(control) => (
              <input
                {...control}
                className="input"
                required={input.required ?? true}
                value={values[input.name] ?? ''}
                onChange={(e) => setValues({ ...values, [input.name]: e.target.value })}
              />
            )}
          </Field>
        ))}
        <fieldset className="field">
          <legend className="field__label">Budget (optional)</legend>
          <p className="field__hint">The run pauses before an LLM call that could cross either limit; raise it from the console.</p>
          <UsdField label="Budget (USD)" errors={budgetErrors.max_cost_usd} value={cost} onChange={setCost} />
          <Field label="Token budget" errors={budgetErrors.max_tokens}>
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
        </fieldset>
        <DialogActions errors={errors['']} busy={busy} submitLabel="Start run" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
