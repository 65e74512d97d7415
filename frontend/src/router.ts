/** A tiny hash router: `#/path?query`. */
import { useSyncExternalStore } from 'react';

export type Route =
  | { page: 'workflows' }
  /** `draft`: an unsaved definition already put on the canvas (a generated one). */
  | { page: 'designer'; workflowId: string | null; draft?: true }
  | { page: 'runs'; workflowId: string; status: string }
  | { page: 'run'; runId: string }
  | { page: 'approvals' }
  | { page: 'schedules' }
  | { page: 'tools' }
  | { page: 'models' }
  | { page: 'usage' }
  | { page: 'sign-in'; next: string; linkExpired: boolean }
  | { page: 'tokens' }
  | { page: 'members' }
  | { page: 'audit' }
  | { page: 'not-found'; path: string };

/** Which page a hash (`#/runs/abc`) shows. */
export function parseRoute(hash: string): Route {
  const [path = '/', search = ''] = hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, ...rest] = parts;
  if (!first || (first === 'workflows' && !second)) return { page: 'workflows' };
  if (first === 'workflows' && second === 'draft' && !rest.length) {
    return { page: 'designer', workflowId: null, draft: true };
  }
  if (first === 'workflows' && second && !rest.length) {
    return { page: 'designer', workflowId: second === 'new' ? null : second };
  }
  if (first === 'runs' && !second) {
    return { page: 'runs', workflowId: query.get('workflow_id') ?? '', status: query.get('status') ?? '' };
  }
  if (first === 'runs' && second && !rest.length) return { page: 'run', runId: second };
  if (first === 'approvals' && !second) return { page: 'approvals' };
  if (first === 'schedules' && !second) return { page: 'schedules' };
  if (first === 'tools' && !second) return { page: 'tools' };
  if (first === 'models' && !second) return { page: 'models' };
  if (first === 'usage' && !second) return { page: 'usage' };
  if (first === 'sign-in' && !second) {
    return { page: 'sign-in', next: safeNext(query.get('next')), linkExpired: query.get('link') === 'expired' };
  }
  if (first === 'tokens' && !second) return { page: 'tokens' };
  if (first === 'members' && !second) return { page: 'members' };
  if (first === 'audit' && !second) return { page: 'audit' };
  return { page: 'not-found', path };
}

/** Where to go after signing in: an in-app path, never the sign-in page itself nor another site. */
function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/sign-in')) return '/';
  return next;
}

/** The sign-in page, coming back to `next` (an in-app path such as `/runs/abc`) after. */
export function signInPath(next: string): string {
  const back = safeNext(next);
  return back === '/' ? '/sign-in' : `/sign-in?${new URLSearchParams({ next: back }).toString()}`;
}

/** The `href` of an in-app link. */
export const href = (path: string): string => `#${path}`;

export function navigate(path: string): void {
  window.location.hash = path;
}

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

/** The current route, updated on every hash change. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
