/**
 * Who is signed in (GET /me): the user, the workspace this browser session acts in, and
 * the role there, which decides which buttons the app offers (lib/permissions.ts).
 */
import { create } from 'zustand';
import { api, auth, errorMessage, setUnauthorizedListener } from '../api/client';
import type { Me, Role } from '../api/types';
import type { Action } from '../lib/permissions';
import { can, reason } from '../lib/permissions';
import { navigate, signInPath } from '../router';

export type SessionStatus = 'loading' | 'signed-in' | 'signed-out' | 'error';

export interface SessionState {
  me: Me | null;
  status: SessionStatus;
  error: string | null;
}

export interface SessionActions {
  /** Ask the API who this is; a 401 means signed out. */
  load: () => Promise<void>;
  /** The API answered 401: forget the user (the app then shows the sign-in page). */
  expire: () => void;
  /** End the session on the server, and drop everything this page loaded under it. */
  signOut: () => Promise<void>;
  /** Act in another workspace from now on, and reload every list in it. */
  chooseWorkspace: (workspaceId: string) => Promise<void>;
}

export const useSession = create<SessionState & SessionActions>()((set) => ({
  me: null,
  status: 'loading',
  error: null,

  load: async () => {
    set({ status: 'loading', error: null });
    try {
      set({ me: await api.me(), status: 'signed-in' });
    } catch (error) {
      // A 401 went through the listener, which has set `signed-out` already.
      if (useSession.getState().status !== 'signed-out') set({ status: 'error', error: errorMessage(error) });
    }
  },

  expire: () => set({ me: null, status: 'signed-out', error: null }),

  signOut: async () => {
    try {
      await auth.logout();
    } finally {
      set({ me: null, status: 'signed-out' });
      // A fresh page: no list, run or form of the previous user stays in memory.
      window.location.hash = '/sign-in';
      window.location.reload();
    }
  },

  chooseWorkspace: async (workspaceId) => {
    await api.chooseWorkspace(workspaceId);
    // Every open list, run and cached store belongs to the old workspace: start over on the
    // workflow list (a run or workflow id from the old one answers 404 in the new one).
    window.location.hash = '/';
    window.location.reload();
  },
}));

/**
 * Any 401 from `/api/v1` ends the session here and sends the user to sign in, remembering
 * where they were. Call once at start-up.
 */
export function listenForSignOut(): void {
  setUnauthorizedListener(() => {
    useSession.getState().expire();
    const here = window.location.hash.replace(/^#/, '') || '/';
    if (!here.startsWith('/sign-in')) navigate(signInPath(here));
  });
}

/** The role in the current workspace, or null while nobody is signed in. */
export const useRole = (): Role | null => useSession((s) => s.me?.workspace.role ?? null);

/** Whether the signed-in user may do `action` here, and if not, why. */
export function usePermission(action: Action): { allowed: boolean; reason: string | null } {
  const role = useRole();
  return { allowed: can(role, action), reason: reason(role, action) };
}
