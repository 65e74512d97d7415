import { ReactFlowProvider } from '@xyflow/react';
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, errorMessage } from '../../api/client';
import { STEP_STATUSES, type Run } from '../../api/types';
import { Notice } from '../../components/Notice';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime } from '../../lib/format';
import type { Definition } from '../../lib/definition';
import { mayDecide } from '../../lib/permissions';
import { groupAsStep, groupItems } from '../../lib/run-view';
import { isRunClosed } from '../../lib/status';
import { href } from '../../router';
import { useRunStore, type Connection } from '../../stores/run-store';
import { usePermission, useSession } from '../../stores/session-store';
import { RoleNote } from '../account/RoleNote';
import { RunGraph } from './RunGraph';
import { LiveOutput } from './LiveOutput';
import { DecisionForm } from './StepActions';
import { RunTotal } from './RunTotal';
import { StepPanel } from './StepPanel';
import { StepList } from './StepList';
import { TimelineView } from './TimelineView';
import { ChildAttention } from './StepProgress';
import { useRunEvents } from './useRunEvents';
import { useRunGraph } from './useRunGraph';

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Refreshing every 2 s',
  closed: 'Finished',
};

function CancelButton({ runId, disabled }: { runId: string; disabled: boolean }) {
  const [state, setState] = useState<{ busy: boolean; message: string | null }>({ busy: false, message: null });
  const cancel = async () => {
    setState({ busy: true, message: null });
    try {
      await api.cancelRun(runId);
      setState({ busy: false, message: 'Cancellation requested.' });
    } catch (error) {
      setState({ busy: false, message: errorMessage(error) });
    }
  };
  return (
    <>
      <button type="button" className="btn btn--danger" disabled={disabled || state.busy} onClick={cancel}>
        Cancel run
      </button>
      {state.message && (
        <span className="small" role="status">
          {state.message}
        </span>
      )}
    </>
  );
}

function StatusLegend() {
  return (
    <ul className="legend" aria-label="Step statuses">
      {STEP_STATUSES.map((status) => (
        <li key={status}>
          <StatusBadge step={status} />
        </li>
      ))}
    </ul>
  );
}

/**
 * The gates of this run waiting for the signed-in user's decision, each with its message,
 * a comment box, Approve and Reject: at the top of the console, so nobody has to find the gate.
 */
function YourDecisions({ run, definition }: { run: Run; definition: Definition | null }) {
  const { email, role } = useSession(useShallow((s) => ({ email: s.me?.user.email ?? '', role: s.me?.workspace.role ?? null })));
  const waiting = run.steps.filter(
    (step) => step.type === 'approval' && step.status === 'waiting' && mayDecide(step.approvers ?? [], email, role),
  );
  return waiting.map((step) => {
    const spec = definition?.steps.find((s) => s.id === step.id);
    const message = step.message ?? (spec?.type === 'approval' ? spec.message : '');
    return (
      <section key={step.id} className="your-decision" aria-label={`Your decision on ${step.id}`}>
        <h2>
          Waiting for your decision: <span className="mono">{step.id}</span>
          {step.round > 0 && <span className="muted small"> · round {step.round}</span>}
        </h2>
        {message && <blockquote className="gate-message">{message}</blockquote>}
        <DecisionForm runId={run.run_id} step={step} />
      </section>
    );
  });
}

type ConsoleView = 'graph' | 'timeline';

/** The console's two views of the run: its graph, and its timeline. */
function ViewTabs({ view, onChange }: { view: ConsoleView; onChange: (view: ConsoleView) => void }) {
  const tab = (name: ConsoleView, text: string) => (
    <button
      type="button"
      role="tab"
      id={`console-tab-${name}`}
      aria-selected={view === name}
      aria-controls={`console-view-${name}`}
      onClick={() => onChange(name)}
    >
      {text}
    </button>
  );
  return (
    <div className="console__views" role="tablist" aria-label="Run views">
      {tab('graph', 'Graph')}
      {tab('timeline', 'Timeline')}
    </div>
  );
}

/** One run: its graph coloured by live step status (or its timeline), its controls and the selected step. */
export function RunConsolePage({ runId }: { runId: string }) {
  useRunEvents(runId);
  const [view, setView] = useState<ConsoleView>('graph');
  const { run, selectedStepId, connection, error, selectStep } = useRunStore(
    useShallow((s) => ({
      run: s.run,
      selectedStepId: s.selectedStepId,
      connection: s.connection,
      error: s.error,
      selectStep: s.selectStep,
    })),
  );
  const { graph, definition, template } = useRunGraph(run);
  const operate = usePermission('operate');

  if (!run) {
    return (
      <div className="page">
        {error ? <Notice>Could not load the run: {error}</Notice> : <p className="muted">Loading run…</p>}
      </div>
    );
  }
  const selected = run.steps.find((step) => step.id === selectedStepId);
  // A map's child run draws its template once, each step standing for all its items.
  const groups = template?.kind === 'map' ? groupItems(run.steps, template.definition.steps.map((step) => step.id)) : null;
  const graphSteps = groups ? groups.map(groupAsStep) : run.steps;
  return (
    <div className="console">
      <header className="console__header">
        <div>
          <h1 className="page-title">
            {run.workflow_id ? <a href={href(`/workflows/${run.workflow_id}`)}>{run.workflow_name}</a> : run.workflow_name}{' '}
            <span className="muted">v{run.version}</span>
          </h1>
          <p className="muted small">
            {template && `${template.kind === 'map' ? 'Items of map' : 'An iteration of loop'} ${template.stepId} · `}
            Run <span className="mono">{run.run_id}</span> · started {formatDateTime(run.started_at)}
            {run.closed_at && ` · closed ${formatDateTime(run.closed_at)}`}
          </p>
          <RunTotal usage={run.usage} />
        </div>
        <div className="console__status">
          <StatusBadge run={run.status} />
          <span className="muted small">{CONNECTION_TEXT[connection]}</span>
        </div>
        <div className="button-row">
          <a className="btn btn--secondary" href={run.temporal.web_url} target="_blank" rel="noreferrer">
            Open in Temporal Web
          </a>
          {run.trace_url && (
            <a className="btn btn--secondary" href={run.trace_url} target="_blank" rel="noreferrer">
              Open trace
            </a>
          )}
          {operate.allowed && <CancelButton runId={run.run_id} disabled={isRunClosed(run.status)} />}
        </div>
        {!isRunClosed(run.status) && <RoleNote reasons={[operate.reason]} />}
      </header>
      {error && <Notice>{error}</Notice>}
      <YourDecisions run={run} definition={definition} />
      <ChildAttention steps={run.steps} />
      <LiveOutput steps={run.steps} />
      <ViewTabs view={view} onChange={setView} />
      {view === 'timeline' && (
        <div role="tabpanel" id="console-view-timeline" aria-labelledby="console-tab-timeline" className="console__timeline">
          <TimelineView run={run} />
        </div>
      )}
      <div className="console__body" role="tabpanel" id="console-view-graph" aria-labelledby="console-tab-graph" hidden={view !== 'graph'}>
        <section className="console__graph">
          {graph && (
            <ReactFlowProvider>
              <RunGraph graph={graph} steps={graphSteps} selectedId={selectedStepId} onSelect={selectStep} />
            </ReactFlowProvider>
          )}
          <StatusLegend />
        </section>
        {selected ? (
          <StepPanel runId={run.run_id} step={selected} definition={definition} onClose={() => selectStep(null)} />
        ) : (
          <aside className="panel step-panel" aria-label="Steps">
            <h2 className="panel__title">Steps</h2>
            <p className="muted small">Select a step on the graph or below.</p>
            <StepList steps={run.steps} groups={groups} onSelect={selectStep} />
          </aside>
        )}
      </div>
    </div>
  );
}
