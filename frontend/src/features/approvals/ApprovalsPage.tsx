import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { Approval } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { formatDateTime } from '../../lib/format';
import { href } from '../../router';

const REFRESH_MS = 10_000;

const COLUMNS: Column<Approval>[] = [
  {
    header: 'Run',
    cell: (item) => (
      <a className="mono" href={href(`/runs/${encodeURIComponent(item.run_id)}`)} aria-label={`Open run ${item.run_id}`}>
        {item.run_id}
      </a>
    ),
  },
  { header: 'Workflow', cell: (item) => item.workflow_name },
  {
    header: 'Step',
    className: 'mono',
    cell: (item) => (
      <>
        {item.step_id}
        {item.round > 0 && <span className="muted"> · round {item.round}</span>}
      </>
    ),
  },
  { header: 'Message', cell: (item) => item.message },
  { header: 'Waiting since', cell: (item) => formatDateTime(item.waiting_since) },
  { header: 'Deadline', cell: (item) => formatDateTime(item.deadline) },
];

/** Every gate waiting for a decision, across all runs; refreshed every 10 s. */
export function ApprovalsPage() {
  const [items, setItems] = useState<Approval[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let active = true;
    const load = () =>
      api
        .listApprovals()
        .then((page) => {
          if (!active) return;
          setItems(page.items);
          setError(null);
        })
        .catch((e: unknown) => active && setError(errorMessage(e)));
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      active = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Approvals</h1>
        {items && <span className="muted">{items.length} waiting</span>}
      </header>
      <ListTable
        items={items}
        error={error}
        columns={COLUMNS}
        rowKey={(item) => `${item.run_id}/${item.step_id}`}
        empty="Nothing is waiting for a decision."
      />
    </div>
  );
}
