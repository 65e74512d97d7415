import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ModelConfig } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { useModels } from '../../stores/models-store';
import { usePermission } from '../../stores/session-store';
import { RoleNote } from '../account/RoleNote';
import { ModelConfigDialog } from './ModelConfigDialog';
import { pricesSummary } from './prices';

type Editing = { config: ModelConfig | null } | null;

/** The model configs agents name, and what their calls cost. */
export function ModelsPage() {
  const { models, status, error, ensureLoaded } = useModels(
    useShallow((s) => ({ models: s.models, status: s.status, error: s.error, ensureLoaded: s.ensureLoaded })),
  );
  const [editing, setEditing] = useState<Editing>(null);
  const configure = usePermission('configure');

  useEffect(() => {
    void ensureLoaded();
  }, [ensureLoaded]);

  const saved = (config: ModelConfig) => {
    setEditing(null);
    // Every page that lists models (the designer's agent form) sees the change at once.
    const others = models.filter((m) => m.name !== config.name);
    useModels.setState({ models: [...others, config].sort((a, b) => a.name.localeCompare(b.name)), status: 'ready' });
  };

  const columns: Column<ModelConfig>[] = [
    { header: 'Name', className: 'mono', cell: (m) => m.name },
    { header: 'Model', className: 'mono', cell: (m) => m.model },
    { header: 'Prices', cell: (m) => pricesSummary(m.prices) },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'table__actions',
      cell: (m) =>
        configure.allowed && (
          <button type="button" className="btn btn--ghost btn--sm" aria-label={`Edit ${m.name}`} onClick={() => setEditing({ config: m })}>
            Edit
          </button>
        ),
    },
  ];

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Models</h1>
        {configure.allowed && (
          <button type="button" className="btn btn--primary" onClick={() => setEditing({ config: null })}>
            New model
          </button>
        )}
      </header>
      <RoleNote reasons={[configure.reason]} />
      <ListTable
        items={status === 'ready' ? models : null}
        error={error}
        columns={columns}
        rowKey={(m) => m.name}
        empty="No model configs yet."
      />
      {editing && <ModelConfigDialog config={editing.config} onClose={() => setEditing(null)} onSaved={saved} />}
    </div>
  );
}
