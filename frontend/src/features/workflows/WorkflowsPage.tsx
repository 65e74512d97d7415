import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { WorkflowSummary } from '../../api/types';
import { Notice } from '../../components/Notice';
import { formatDateTime } from '../../lib/format';
import { href, navigate } from '../../router';

/** Every workflow, searchable by name. */
export function WorkflowsPage() {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState<{ items: WorkflowSummary[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

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
      {error && <Notice>{error}</Notice>}
      {page && page.items.length === 0 && (
        <div className="empty">
          <p>{search ? 'No workflow matches.' : 'No workflows yet.'}</p>
          <button type="button" className="btn btn--primary" onClick={() => navigate('/workflows/new')}>
            Create a workflow
          </button>
        </div>
      )}
      {page && page.items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Version</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((workflow) => (
              <tr key={workflow.id}>
                <td>
                  <a href={href(`/workflows/${workflow.id}`)}>{workflow.name}</a>
                </td>
                <td className="muted">{workflow.description}</td>
                <td>v{workflow.version}</td>
                <td>{formatDateTime(workflow.updated_at)}</td>
                <td className="table__actions">
                  <a className="btn btn--ghost btn--sm" href={href(`/runs?workflow_id=${workflow.id}`)}>
                    Run history
                  </a>
                  <button
                    type="button"
                    className="btn btn--ghost btn--sm"
                    aria-label={`Delete ${workflow.name}`}
                    onClick={() => remove(workflow)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page && page.total > page.items.length && (
        <p className="muted small">
          Showing {page.items.length} of {page.total}; search to narrow down.
        </p>
      )}
    </div>
  );
}
