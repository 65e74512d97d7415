import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, errorMessage } from '../../api/client';
import type { WorkflowVersion } from '../../api/types';
import { formatDateTime } from '../../lib/format';
import { useDesigner } from '../../stores/designer-store';

/** Every saved version, newest first; any can be put back on the canvas. */
export function VersionsList() {
  const { workflowId, current, loadVersion } = useDesigner(
    useShallow((s) => ({ workflowId: s.workflowId, current: s.saved?.version, loadVersion: s.loadVersion })),
  );
  const [versions, setVersions] = useState<WorkflowVersion[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!workflowId) return;
    let active = true;
    api
      .listVersions(workflowId)
      .then((list) => active && setVersions([...list].sort((a, b) => b.version - a.version)))
      .catch((e: unknown) => active && setError(errorMessage(e)));
    return () => {
      active = false;
    };
  }, [workflowId, current]);

  return (
    <section className="panel-section" aria-labelledby="versions-title">
      <h2 id="versions-title" className="section-title">
        Versions
      </h2>
      {!workflowId && <p className="muted small">Save to create version 1.</p>}
      {error && <p className="field__error">{error}</p>}
      {workflowId && (
        <ol className="versions" aria-label="Versions">
          {versions.map((version) => (
            <li key={version.version} className="versions__item">
              <span>
                <strong>v{version.version}</strong>
                {version.version === current && <span className="muted"> (saved)</span>}
                <br />
                <span className="muted small">{formatDateTime(version.created_at)}</span>
              </span>
              {version.version !== current && (
                <button
                  type="button"
                  className="btn btn--ghost btn--sm"
                  aria-label={`Load version ${version.version}`}
                  onClick={() => loadVersion(version)}
                >
                  Load
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
