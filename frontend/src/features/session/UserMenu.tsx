import { useEffect, useId, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { can } from '../../lib/permissions';
import { href } from '../../router';
import { useSession } from '../../stores/session-store';

/** The signed-in user and their role here; their tokens, the members and audit pages (admins), and Sign out. */
export function UserMenu() {
  const { email, role, workspace, signOut } = useSession(
    useShallow((s) => ({
      email: s.me?.user.email ?? '',
      role: s.me?.workspace.role ?? null,
      workspace: s.me?.workspace.personal ? 'your personal workspace' : (s.me?.workspace.name ?? ''),
      signOut: s.signOut,
    })),
  );
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (event: Event) => {
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !ref.current?.contains(event.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  return (
    <div className="user-menu" ref={ref}>
      <button
        type="button"
        className="btn btn--ghost btn--sm user-menu__button"
        aria-expanded={open}
        aria-controls={menuId}
        aria-description={`Your account; ${role ?? 'no role'} in ${workspace}`}
        onClick={() => setOpen((value) => !value)}
      >
        <span>{email}</span> <span className="badge user-menu__role">{role}</span>
      </button>
      {open && (
        <nav id={menuId} className="user-menu__panel" aria-label="Account">
          <ul>
            <li>
              <a href={href('/tokens')} onClick={() => setOpen(false)}>
                Tokens
              </a>
            </li>
            {can(role, 'manageMembers') && (
              <li>
                <a href={href('/members')} onClick={() => setOpen(false)}>
                  Members
                </a>
              </li>
            )}
            {can(role, 'readAudit') && (
              <li>
                <a href={href('/audit')} onClick={() => setOpen(false)}>
                  Audit
                </a>
              </li>
            )}
            <li>
              <button type="button" className="btn btn--ghost btn--sm" onClick={() => void signOut()}>
                Sign out
              </button>
            </li>
          </ul>
        </nav>
      )}
    </div>
  );
}
