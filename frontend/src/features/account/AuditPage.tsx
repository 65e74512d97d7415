import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { AuditEntry } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { formatDateTime } from '../../lib/format';
import { reason } from '../../lib/permissions';
import { useRole } from '../../stores/session-store';
import { RoleNote } from './RoleNote';

const PAGE_SIZE = 50;

const COLUMNS: Column<AuditEntry>[] = [
  { header: 'When', cell: (entry) => formatDateTime(entry.at) },
  { header: 'Who', cell: (entry) => entry.actor },
  { header: 'What', className: 'mono', cell: (entry) => entry.action },
  { header: 'Target', className: 'mono', cell: (entry) => entry.target },
  { header: 'Workspace', cell: (entry) => entry.workspace ?? '—' },
  { header: 'From', className: 'mono', cell: (entry) => entry.source_ip ?? '—' },
  {
    header: 'Detail',
    className: 'mono small',
    cell: (entry) => (Object.keys(entry.detail).length ? JSON.stringify(entry.detail) : ''),
  },
];

/** Sign-ins, changes and operations, newest first; "Older" pages back (admins only). */
export function AuditPage() {
  const role = useRole();
  const refused = reason(role, 'readAudit');
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [before, setBefore] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async (from: number | null) => {
    setBusy(true);
    try {
      const page = await api.listAudit({ before: from ?? undefined, limit: PAGE_SIZE });
      setItems((current) => (from === null ? page.items : [...(current ?? []), ...page.items]));
      setBefore(page.next_before);
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (!refused) void load(null);
  }, [refused]);

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Audit log</h1>
      </header>
      {refused ? (
        <RoleNote reasons={[refused]} />
      ) : (
        <>
          <ListTable items={items} error={error} columns={COLUMNS} rowKey={(entry) => String(entry.id)} empty="Nothing recorded yet." />
          {before !== null && (
            <button type="button" className="btn btn--secondary" disabled={busy} aria-busy={busy} onClick={() => void load(before)}>
              Older
            </button>
          )}
        </>
      )}
    </div>
  );
}
