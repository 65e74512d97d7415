import { useShallow } from 'zustand/react/shallow';
import type { Step } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import type { Definition } from '../../lib/definition';
import { elapsed, formatDateTime } from '../../lib/format';
import { approversText, mayDecide, reason } from '../../lib/permissions';
import { NODE_CONFIG } from '../../nodes/config';
import { useSession } from '../../stores/session-store';
import { RoleNote } from '../account/RoleNote';
import { DecisionForm, PausedActions } from './StepActions';
import { StepOutput } from './StepOutput';
import { StepProgress } from './StepProgress';
import { StepUsage } from './StepUsage';
import { StepTranscriptView } from './Transcript';

interface Props {
  runId: string;
  step: Step;
  definition: Definition | null;
  onClose: () => void;
}

/** Everything about one step of a run, and what can be done with it now. */
export function StepPanel({ runId, step, definition, onClose }: Props) {
  const spec = definition?.steps.find((s) => s.id === step.id);
  const duration = elapsed(step.started_at, step.finished_at);
  const { email, role } = useSession(useShallow((s) => ({ email: s.me?.user.email ?? '', role: s.me?.workspace.role ?? null })));
  const approvers = step.approvers ?? [];
  return (
    <aside className="panel step-panel" aria-label={`Step ${step.id}`}>
      <header className="panel__header">
        <h2 className="panel__title">
          <span className="muted">{NODE_CONFIG[step.type].title}</span>{' '}
          <span className="mono">{step.id}</span>
        </h2>
        <button type="button" className="btn btn--ghost btn--sm" onClick={onClose}>
          Close
        </button>
      </header>
      <StatusBadge step={step.status} />
      <StepProgress step={step} />
      {spec?.type === 'approval' && <blockquote className="gate-message">{spec.message}</blockquote>}
      {step.status === 'waiting' &&
        (mayDecide(approvers, email, role) ? (
          <DecisionForm runId={runId} step={step} />
        ) : (
          <RoleNote reasons={[`Waiting for a decision by ${approversText(approvers)}: not you.`]} />
        ))}
      {step.status === 'paused' &&
        (reason(role, 'operate') === null ? <PausedActions runId={runId} step={step} /> : <RoleNote reasons={[reason(role, 'operate')]} />)}
      {step.type === 'approval' && approvers.length > 0 && step.status !== 'waiting' && (
        <p className="muted small">Approvers: {approvers.join(', ')}</p>
      )}

      <dl className="facts">
        <dt>Attempt</dt>
        <dd>{step.attempt}</dd>
        {step.type === 'approval' && (
          <>
            <dt>Round</dt>
            <dd>{step.round}</dd>
            <dt>Deadline</dt>
            <dd>{formatDateTime(step.deadline)}</dd>
          </>
        )}
        <dt>Started</dt>
        <dd>{formatDateTime(step.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatDateTime(step.finished_at)}</dd>
        {duration && (
          <>
            <dt>Took</dt>
            <dd>{duration}</dd>
          </>
        )}
      </dl>
      {step.usage && step.usage.llm_calls > 0 && <StepUsage usage={step.usage} />}

      {step.error && (
        <section>
          <h3 className="section-title">Error</h3>
          <pre className="code-block code-block--error">{step.error}</pre>
        </section>
      )}
      {step.output && (
        <section>
          <h3 className="section-title">Output</h3>
          <StepOutput runId={runId} stepId={step.id} output={step.output} />
        </section>
      )}
      {step.decisions.length > 0 && (
        <section>
          <h3 className="section-title">Decisions</h3>
          <ul className="decisions">
            {step.decisions.map((d) => (
              <li key={`${d.round}-${d.decided_at}`}>
                <strong>{d.decision === 'approve' ? 'Approved' : 'Rejected'}</strong> by {d.actor || 'someone'} ·{' '}
                {formatDateTime(d.decided_at)} (round {d.round}){d.comment && <q>{d.comment}</q>}
              </li>
            ))}
          </ul>
        </section>
      )}
      {step.type === 'task' && (
        <section>
          <h3 className="section-title">Transcript</h3>
          <StepTranscriptView runId={runId} step={step} />
        </section>
      )}
      {step.log.length > 0 && (
        <details className="transcript__entry">
          <summary>Log ({step.log.length} lines)</summary>
          <pre className="code-block">{step.log.join('\n')}</pre>
        </details>
      )}
    </aside>
  );
}
