import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useSession } from '../../stores/session-store';
import { approvalsWaitingFor } from './waiting-for-me';

const REFRESH_MS = 10_000;

/** How many gates wait for the signed-in user's decision, next to the Approvals link. */
export function ApprovalCount({ refreshKey }: { refreshKey: string }) {
  const { email, role } = useSession(useShallow((s) => ({ email: s.me?.user.email ?? null, role: s.me?.workspace.role ?? null })));
  const [count, setCount] = useState(0);

  useEffect(() => {
    if (!email || !role) return;
    let active = true;
    const refresh = () =>
      approvalsWaitingFor(email, role)
        .then((items) => active && setCount(items.length))
        .catch(() => undefined); // the count stays as it was; the inbox page says what failed
    void refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => {
      active = false;
      clearInterval(timer);
    };
  }, [email, role, refreshKey]);

  if (!count) return null;
  return (
    <span className="count-badge" data-testid="approvals-waiting-for-me">
      <span aria-hidden="true">{count}</span>
      <span className="sr-only">, {count} waiting for you</span>
    </span>
  );
}
