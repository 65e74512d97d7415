import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import { RUN_STATUSES, type RunStatus, type RunSummary, type WorkflowSummary } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime } from '../../lib/format';
import { RUN_STATUS_LABEL } from '../../lib/status';
import { href, navigate } from '../../router';

const COLUMNS: Column<RunSummary>[] = [
  {
    header: 'Run',
    cell: (run) => (
      <a className="mono" href={href(`/runs/${encodeURIComponent(run.run_id)}`)}>
        {run.run_id}
      </a>
    ),
  },
  {
    header: 'Workflow',
    cell: (run) => (
      <>
        {run.workflow_name} <span className="muted">v{run.version}</span>
      </>
    ),
  },
  { header: 'Status', cell: (run) => <StatusBadge run={run.status} /> },
  { header: 'Started', cell: (run) => formatDateTime(run.started_at) },
  { header: 'Closed', cell: (run) => formatDateTime(run.closed_at) },
];

const isRunStatus = (value: string): value is RunStatus => (RUN_STATUSES as readonly string[]).includes(value);

/** Runs, newest first, filtered by workflow and status (kept in the address). */
export function RunsPage({ workflowId, status }: { workflowId: string; status: string }) {
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>([]);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const statusFilter = isRunStatus(status) ? status : '';

  useEffect(() => {
    api
      .listWorkflows({ limit: 200 })
      .then((page) => setWorkflows(page.items))
      .catch(() => undefined); // the filter then offers "All workflows" only
  }, []);

  useEffect(() => {
    let active = true;
    setRuns(null);
    api
      .listRuns({ workflow_id: workflowId || undefined, status: statusFilter, limit: 50 })
      .then((page) => {
        if (!active) return;
        setRuns(page.items);
        setNextToken(page.next_page_token);
        setError(null);
      })
      .catch((e: unknown) => active && setError(errorMessage(e)));
    return () => {
      active = false;
    };
  }, [workflowId, statusFilter]);

  const loadMore = async () => {
    if (!nextToken) return;
    try {
      const page = await api.listRuns({ workflow_id: workflowId || undefined, status: statusFilter, limit: 50, next_page_token: nextToken });
      setRuns((current) => [...(current ?? []), ...page.items]);
      setNextToken(page.next_page_token);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const filter = (next: { workflow_id?: string; status?: string }) => {
    const params = new URLSearchParams({ workflow_id: workflowId, status: statusFilter, ...next });
    for (const [key, value] of [...params]) if (!value) params.delete(key);
    const query = params.toString();
    navigate(query ? `/runs?${query}` : '/runs');
  };

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Runs</h1>
        <div className="filters">
          <label className="filter">
            <span className="field__label">Workflow</span>
            <select className="input" value={workflowId} onChange={(e) => filter({ workflow_id: e.target.value })}>
              <option value="">All workflows</option>
              {workflows.map((workflow) => (
                <option key={workflow.id} value={workflow.id}>
                  {workflow.name}
                </option>
              ))}
            </select>
          </label>
          <label className="filter">
            <span className="field__label">Status</span>
            <select className="input" value={statusFilter} onChange={(e) => filter({ status: e.target.value })}>
              <option value="">Any status</option>
              {RUN_STATUSES.map((value) => (
                <option key={value} value={value}>
                  {RUN_STATUS_LABEL[value]}
                </option>
              ))}
            </select>
          </label>
        </div>
      </header>
      <ListTable items={runs} error={error} columns={COLUMNS} rowKey={(run) => run.run_id} empty="No runs match." />
      {nextToken && (
        <button type="button" className="btn btn--secondary" onClick={loadMore}>
          Load more
        </button>
      )}
    </div>
  );
}
