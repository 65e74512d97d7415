import { useEffect, useRef, useState } from 'react';
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

const keyOf = (item: Approval) => `${item.run_id}/${item.step_id}`;

/** The first `count` pages, following each page's token: what a refresh shows again. */
async function loadPages(count: number): Promise<{ items: Approval[]; next: string | null }> {
  const items: Approval[] = [];
  let token: string | null = null;
  for (let page = 0; page < count; page += 1) {
    const answer = await api.listApprovals(token ? { page_token: token } : {});
    items.push(...answer.items);
    token = answer.next_page_token;
    if (!token) break;
  }
  return { items, next: token };
}

/**
 * Every gate waiting for a decision, across all runs, a page at a time ("Load more"
 * follows `next_page_token`); refreshed every 10 s, as many pages as are shown.
 */
export function ApprovalsPage() {
  const [items, setItems] = useState<Approval[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pagesShown = useRef(1);
  // Each load takes a number; an answer to a load that a later one overtook is dropped.
  const latestLoad = useRef(0);

  useEffect(() => {
    let active = true;
    const refresh = async () => {
      const load = ++latestLoad.current;
      try {
        const { items: shown, next } = await loadPages(pagesShown.current);
        if (!active || load !== latestLoad.current) return;
        setItems(shown);
        setNextToken(next);
        setError(null);
      } catch (e) {
        if (active && load === latestLoad.current) setError(errorMessage(e));
      }
    };
    void refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => {
      active = false;
      clearInterval(timer);
    };
  }, []);

  const loadMore = async () => {
    if (!nextToken) return;
    const load = ++latestLoad.current;
    setLoadingMore(true);
    try {
      const page = await api.listApprovals({ page_token: nextToken });
      if (load !== latestLoad.current) return;
      pagesShown.current += 1;
      setItems((current) => {
        const known = new Set((current ?? []).map(keyOf));
        return [...(current ?? []), ...page.items.filter((item) => !known.has(keyOf(item)))];
      });
      setNextToken(page.next_page_token);
      setError(null);
    } catch (e) {
      if (load === latestLoad.current) setError(errorMessage(e));
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Approvals</h1>
        {items && (
          <span className="muted">
            {items.length}
            {nextToken ? '+' : ''} waiting
          </span>
        )}
      </header>
      <ListTable items={items} error={error} columns={COLUMNS} rowKey={keyOf} empty="Nothing is waiting for a decision." />
      {nextToken && (
        <button type="button" className="btn btn--secondary" onClick={loadMore} disabled={loadingMore} aria-busy={loadingMore}>
          Load more approvals
        </button>
      )}
    </div>
  );
}
