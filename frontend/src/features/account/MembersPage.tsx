import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, errorMessage } from '../../api/client';
import type { Member, Role } from '../../api/types';
import { Field } from '../../components/Field';
import { type Column, ListTable } from '../../components/ListTable';
import { Notice } from '../../components/Notice';
import { can, reason, ROLES } from '../../lib/permissions';
import { useSession } from '../../stores/session-store';
import { RoleNote } from './RoleNote';

function RoleSelect({ value, onChange, ...rest }: { value: Role; onChange: (role: Role) => void; 'aria-label'?: string; id?: string }) {
  return (
    <select {...rest} className="input input--compact" value={value} onChange={(e) => onChange(e.target.value as Role)}>
      {ROLES.map((role) => (
        <option key={role} value={role}>
          {role}
        </option>
      ))}
    </select>
  );
}

/** The members of the current workspace; its admins add them by email, change roles and remove them. */
export function MembersPage() {
  const { workspace, role, myId } = useSession(
    useShallow((s) => ({ workspace: s.me?.workspace ?? null, role: s.me?.workspace.role ?? null, myId: s.me?.user.id ?? null })),
  );
  const admin = can(role, 'manageMembers');
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [email, setEmail] = useState('');
  const [newRole, setNewRole] = useState<Role>('viewer');
  const [busy, setBusy] = useState(false);
  const workspaceId = workspace?.id ?? null;

  const load = useCallback(async () => {
    if (!workspaceId) return;
    try {
      setMembers(await api.listMembers(workspaceId));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [workspaceId]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await action();
      await load();
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (workspaceId && (await act(() => api.putMember(workspaceId, email.trim(), newRole)))) setEmail('');
  };
  const remove = (member: Member) => {
    if (!workspaceId || !window.confirm(`Remove ${member.user.email} from ${workspace?.name}?`)) return;
    void act(() => api.removeMember(workspaceId, member.user.id));
  };

  const columns: Column<Member>[] = [
    { header: 'Email', cell: (member) => member.user.email },
    { header: 'Name', className: 'muted', cell: (member) => member.user.name },
    {
      header: 'Role',
      cell: (member) =>
        admin && workspaceId ? (
          <RoleSelect
            aria-label={`Role of ${member.user.email}`}
            value={member.role}
            onChange={(next) => void act(() => api.putMember(workspaceId, member.user.email, next))}
          />
        ) : (
          member.role
        ),
    },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'table__actions',
      cell: (member) =>
        admin && (
          <button
            type="button"
            className="btn btn--ghost btn--sm"
            aria-label={`Remove ${member.user.email}`}
            disabled={busy || member.user.id === myId}
            title={member.user.id === myId ? 'You cannot remove yourself' : undefined}
            onClick={() => remove(member)}
          >
            Remove
          </button>
        ),
    },
  ];

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Members of {workspace?.personal ? 'your personal workspace' : workspace?.name}</h1>
      </header>
      <RoleNote reasons={[reason(role, 'manageMembers')]} />
      {admin && (
        <form className="form form--inline" onSubmit={add} aria-label="Add a member">
          <Field label="Member email">
            {(control) => (
              <input {...control} className="input" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
            )}
          </Field>
          <Field label="Member role">{(control) => <RoleSelect id={control.id} value={newRole} onChange={setNewRole} />}</Field>
          <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
            Add member
          </button>
        </form>
      )}
      {error && members && <Notice>{error}</Notice>}
      <ListTable
        items={members}
        error={members ? null : error}
        columns={columns}
        rowKey={(member) => member.user.id}
        empty="Nobody is a member yet."
      />
    </div>
  );
}
