import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { WorkflowSummary } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { formatDateTime } from '../../lib/format';
import { href, navigate } from '../../router';
import { usePermission } from '../../stores/session-store';
import { RoleNote } from '../account/RoleNote';
import { GenerateWorkflow } from './GenerateWorkflow';

/** Every workflow, searchable by name. */
export function WorkflowsPage() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState<{ items: WorkflowSummary[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const edit = usePermission('edit');

  useEffect(() => {
    let active = true;
    const timer = setTimeout(() => {
      api
        .listWorkflows({ name: search.trim() || undefined, limit: 100 })
        .then((result) => {
          if (!active) return;
          setPage(result);
          setError(null);
        })
        .catch((e: unknown) => {
          if (active) setError(errorMessage(e));
        });
    }, 200);
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [search, reload]);

  const remove = async (workflow: WorkflowSummary) => {
    if (!window.confirm(`Delete “${workflow.name}” and all its versions?`)) return;
    try {
      await api.deleteWorkflow(workflow.id);
      setReload((n) => n + 1);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const columns: Column<WorkflowSummary>[] = [
    { header: 'Name', cell: (workflow) => <a href={href(`/workflows/${workflow.id}`)}>{workflow.name}</a> },
    { header: 'Description', className: 'muted', cell: (workflow) => workflow.description },
    { header: 'Version', cell: (workflow) => `v${workflow.version}` },
    { header: 'Updated', cell: (workflow) => formatDateTime(workflow.updated_at) },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'table__actions',
      cell: (workflow) => (
        <>
          <a className="btn btn--ghost btn--sm" href={href(`/runs?workflow_id=${workflow.id}`)}>
            Run history
          </a>
          {edit.allowed && (
            <button
              type="button"
              className="btn btn--ghost btn--sm"
              aria-label={`Delete ${workflow.name}`}
              onClick={() => remove(workflow)}
            >
              Delete
            </button>
          )}
        </>
      ),
    },
  ];

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Workflows</h1>
        <input
          className="input page__search"
          type="search"
          aria-label="Search workflows"
          placeholder="Search by name"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </header>
      <RoleNote reasons={[edit.reason]} />
      {edit.allowed && <GenerateWorkflow />}
      <ListTable
        items={page?.items ?? null}
        error={error}
        columns={columns}
        rowKey={(workflow) => workflow.id}
        empty={
          <>
            <p>{search ? 'No workflow matches.' : 'No workflows yet.'}</p>
            {edit.allowed && (
              <button type="button" className="btn btn--primary" onClick={() => navigate('/workflows/new')}>
                Create a workflow
              </button>
            )}
          </>
        }
      />
      {page && page.total > page.items.length && (
        <p className="muted small">
          Showing {page.items.length} of {page.total}; search to narrow down.
        </p>
      )}
    </div>
  );
}
