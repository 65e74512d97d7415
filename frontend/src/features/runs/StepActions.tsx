import { useRef, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { Step } from '../../api/types';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { useRunStore } from '../../stores/run-store';
import { BudgetRaise } from './BudgetRaise';

/** Run one action on a step and put the step it answers with into the store. */
function useStepAction(): { busy: boolean; error: string | null; run: (action: () => Promise<Step>) => Promise<boolean> } {
  const applyStep = useRunStore((s) => s.applyStep);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<Step>) => {
    setBusy(true);
    setError(null);
    try {
      applyStep(await action());
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** Approve or reject a waiting gate, with an optional comment. */
export function DecisionForm({ runId, step }: { runId: string; step: Step }) {
  const [comment, setComment] = useState('');
  const { busy, error, run } = useStepAction();
  const decide = async (decision: 'approve' | 'reject') => {
    if (await run(() => api.decide(runId, step.id, decision, comment, step.round))) setComment('');
  };
  return (
    <div className="action-box">
      <Field label="Comment">
        {(control) => (
          <textarea {...control} className="input" rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />
        )}
      </Field>
      {error && <Notice>{error}</Notice>}
      <div className="button-row">
        <button type="button" className="btn btn--success" disabled={busy} onClick={() => decide('approve')}>
          Approve
        </button>
        <button type="button" className="btn btn--danger" disabled={busy} onClick={() => decide('reject')}>
          Reject
        </button>
      </div>
    </div>
  );
}

/**
 * Retry a paused step, or skip it with the output the next steps should get. A step
 * paused over budget says which budget and offers a raise of the run's limits first.
 */
export function PausedActions({ runId, step }: { runId: string; step: Step }) {
  const [output, setOutput] = useState('');
  const { busy, error, run } = useStepAction();
  const retryButton = useRef<HTMLButtonElement>(null);
  const overBudget = step.pause_reason === 'budget';
  return (
    <div className="action-box">
      {overBudget ? (
        <>
          <p className="small">
            <strong>Paused over budget:</strong> {step.error ?? 'the next LLM call could cross a budget.'}
          </p>
          <p className="small muted">Raise the run's limits, then retry. The workspace's monthly budget is set by admins on the Usage page.</p>
          <BudgetRaise runId={runId} onRaised={() => retryButton.current?.focus()} />
        </>
      ) : (
        <p className="small">This step failed and waits for you: run it again, or skip it.</p>
      )}
      <div className="button-row">
        <button
          ref={retryButton}
          type="button"
          className="btn btn--primary"
          disabled={busy}
          onClick={() => run(() => api.retryStep(runId, step.id, step.execution))}
        >
          {overBudget ? 'Retry step' : 'Retry'}
        </button>
      </div>
      <Field label="Output" hint="What the steps after it get instead of this step's output.">
        {(control) => (
          <textarea {...control} className="input" rows={3} value={output} onChange={(e) => setOutput(e.target.value)} />
        )}
      </Field>
      {error && <Notice>{error}</Notice>}
      <div className="button-row">
        <button type="button" className="btn btn--secondary" disabled={busy} onClick={() => run(() => api.skipStep(runId, step.id, output, step.execution))}>
          Skip
        </button>
      </div>
    </div>
  );
}
