import { ReactFlowProvider } from '@xyflow/react';
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, errorMessage } from '../../api/client';
import { STEP_STATUSES } from '../../api/types';
import { Notice } from '../../components/Notice';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime } from '../../lib/format';
import { isRunClosed } from '../../lib/status';
import { href } from '../../router';
import { useRunStore, type Connection } from '../../stores/run-store';
import { RunGraph } from './RunGraph';
import { StepPanel } from './StepPanel';
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

/** One run: its graph coloured by live step status, its controls and the selected step. */
export function RunConsolePage({ runId }: { runId: string }) {
  useRunEvents(runId);
  const { run, selectedStepId, connection, error, selectStep } = useRunStore(
    useShallow((s) => ({
      run: s.run,
      selectedStepId: s.selectedStepId,
      connection: s.connection,
      error: s.error,
      selectStep: s.selectStep,
    })),
  );
  const { graph, definition } = useRunGraph(run);

  if (!run) {
    return (
      <div className="page">
        {error ? <Notice>Could not load the run: {error}</Notice> : <p className="muted">Loading run…</p>}
      </div>
    );
  }
  const selected = run.steps.find((step) => step.id === selectedStepId);
  return (
    <div className="console">
      <header className="console__header">
        <div>
          <h1 className="page-title">
            {run.workflow_id ? <a href={href(`/workflows/${run.workflow_id}`)}>{run.workflow_name}</a> : run.workflow_name}{' '}
            <span className="muted">v{run.version}</span>
          </h1>
          <p className="muted small">
            Run <span className="mono">{run.run_id}</span> · started {formatDateTime(run.started_at)}
            {run.closed_at && ` · closed ${formatDateTime(run.closed_at)}`}
          </p>
        </div>
        <div className="console__status">
          <StatusBadge run={run.status} />
          <span className="muted small">{CONNECTION_TEXT[connection]}</span>
        </div>
        <div className="button-row">
          <a className="btn btn--secondary" href={run.temporal.web_url} target="_blank" rel="noreferrer">
            Open in Temporal Web
          </a>
          <CancelButton runId={run.run_id} disabled={isRunClosed(run.status)} />
        </div>
      </header>
      {error && <Notice>{error}</Notice>}
      <div className="console__body">
        <section className="console__graph">
          {graph && (
            <ReactFlowProvider>
              <RunGraph graph={graph} steps={run.steps} selectedId={selectedStepId} onSelect={selectStep} />
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
            <ul className="step-list">
              {run.steps.map((step) => (
                <li key={step.id}>
                  <button type="button" className="step-list__button mono" onClick={() => selectStep(step.id)}>
                    {step.id}
                  </button>
                  <StatusBadge step={step.status} />
                </li>
              ))}
            </ul>
          </aside>
        )}
      </div>
    </div>
  );
}
