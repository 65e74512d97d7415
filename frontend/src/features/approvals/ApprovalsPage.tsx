import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { Approval } from '../../api/types';
import { Notice } from '../../components/Notice';
import { formatDateTime } from '../../lib/format';
import { href } from '../../router';

const REFRESH_MS = 10_000;

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
      {error && <Notice>{error}</Notice>}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items && items.length === 0 && <p className="empty">Nothing is waiting for a decision.</p>}
      {items && items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Workflow</th>
              <th scope="col">Step</th>
              <th scope="col">Message</th>
              <th scope="col">Waiting since</th>
              <th scope="col">Deadline</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={`${item.run_id}/${item.step_id}`}>
                <td>
                  <a className="mono" href={href(`/runs/${encodeURIComponent(item.run_id)}`)} aria-label={`Open run ${item.run_id}`}>
                    {item.run_id}
                  </a>
                </td>
                <td>{item.workflow_name}</td>
                <td className="mono">
                  {item.step_id}
                  {item.round > 0 && <span className="muted"> · round {item.round}</span>}
                </td>
                <td>{item.message}</td>
                <td>{formatDateTime(item.waiting_since)}</td>
                <td>{formatDateTime(item.deadline)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
