import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { errorMessage } from '../../api/client';
import type { Workspace } from '../../api/types';
import { useSession } from '../../stores/session-store';

const label = (workspace: Workspace) => `${workspace.personal ? 'Personal' : workspace.name} (${workspace.role})`;

/** The workspace this session acts in; choosing another reloads every list in it. */
export function WorkspaceSwitcher() {
  const { current, workspaces, chooseWorkspace } = useSession(
    useShallow((s) => ({
      current: s.me?.workspace.id ?? '',
      workspaces: s.me?.workspaces ?? [],
      chooseWorkspace: s.chooseWorkspace,
    })),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const choose = async (id: string) => {
    setBusy(true);
    setError(null);
    try {
      await chooseWorkspace(id);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };
  return (
    <label className="workspace-switcher">
      <span className="sr-only">Workspace</span>
      <select
        className="input input--compact"
        value={current}
        disabled={busy || workspaces.length < 2}
        title={error ?? (workspaces.length < 2 ? 'You belong to this workspace only' : undefined)}
        aria-invalid={error ? true : undefined}
        onChange={(e) => void choose(e.target.value)}
      >
        {workspaces.map((workspace) => (
          <option key={workspace.id} value={workspace.id}>
            {label(workspace)}
          </option>
        ))}
      </select>
      {error && (
        <span className="sr-only" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}
