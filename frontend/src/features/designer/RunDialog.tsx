import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage } from '../../api/client';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
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

/** Ask for the run's inputs, start the run and open its console. */
export function RunDialog({ workflowId, version, inputs, unsaved, onClose }: Props) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(inputs.map((input) => [input.name, input.default ?? ''])),
  );
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    const given = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
    try {
      const run = await api.startRun(workflowId, given, version);
      navigate(`/runs/${encodeURIComponent(run.run_id)}`);
    } catch (error) {
      setErrors(error instanceof ApiError && error.issues.length ? runInputIssues(error.issues) : { '': [errorMessage(error)] });
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
        {errors[''] && <Notice>{errors[''].join(' · ')}</Notice>}
        <div className="dialog__actions">
          <button type="button" className="btn btn--ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
            Start run
          </button>
        </div>
      </form>
    </Dialog>
  );
}
