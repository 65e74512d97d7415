import { useEffect } from 'react';
import { AuditPage } from './features/account/AuditPage';
import { MembersPage } from './features/account/MembersPage';
import { TokensPage } from './features/account/TokensPage';
import { ApprovalCount } from './features/approvals/ApprovalCount';
import { ApprovalsPage } from './features/approvals/ApprovalsPage';
import { DesignerPage } from './features/designer/DesignerPage';
import { ModelsPage } from './features/models/ModelsPage';
import { RunConsolePage } from './features/runs/RunConsolePage';
import { RunsPage } from './features/runs/RunsPage';
import { SchedulesPage } from './features/schedules/SchedulesPage';
import { SignInPage } from './features/session/SignInPage';
import { UserMenu } from './features/session/UserMenu';
import { WorkspaceSwitcher } from './features/session/WorkspaceSwitcher';
import { ToolsPage } from './features/tools/ToolsPage';
import { UsagePage } from './features/usage/UsagePage';
import { WorkflowsPage } from './features/workflows/WorkflowsPage';
import { href, navigate, parseRoute, signInPath, useRoute, type Route } from './router';
import { useDesigner } from './stores/designer-store';
import { listenForSignOut, usePermission, useSession } from './stores/session-store';

const currentRoute = () => parseRoute(window.location.hash);

const NAV: { label: string; path: string; pages: Route['page'][] }[] = [
  { label: 'Workflows', path: '/', pages: ['workflows', 'designer'] },
  { label: 'Runs', path: '/runs', pages: ['runs', 'run'] },
  { label: 'Approvals', path: '/approvals', pages: ['approvals'] },
  { label: 'Schedules', path: '/schedules', pages: ['schedules'] },
  { label: 'Tools', path: '/tools', pages: ['tools'] },
  { label: 'Models', path: '/models', pages: ['models'] },
  { label: 'Usage', path: '/usage', pages: ['usage'] },
];

listenForSignOut();

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'workflows':
      return <WorkflowsPage />;
    case 'designer':
      return <DesignerPage workflowId={route.workflowId} draft={route.draft} />;
    case 'runs':
      return <RunsPage workflowId={route.workflowId} status={route.status} />;
    case 'run':
      return <RunConsolePage key={route.runId} runId={route.runId} />;
    case 'approvals':
      return <ApprovalsPage />;
    case 'schedules':
      return <SchedulesPage />;
    case 'tools':
      return <ToolsPage />;
    case 'models':
      return <ModelsPage />;
    case 'usage':
      return <UsagePage />;
    case 'tokens':
      return <TokensPage />;
    case 'members':
      return <MembersPage />;
    case 'audit':
      return <AuditPage />;
    case 'sign-in':
      return <SignInPage next={route.next} linkExpired={route.linkExpired} />;
    case 'not-found':
      return (
        <div className="page">
          <h1 className="page-title">Page not found</h1>
          <p>
            Nothing lives at <span className="mono">{route.path}</span>. <a href={href('/')}>Back to the workflow list</a>.
          </p>
        </div>
      );
  }
}

/** Open an empty designer (clearing it if it is already open on a new workflow). */
function startNewWorkflow() {
  if (currentRoute().page === 'designer' && useDesigner.getState().workflowId === null) useDesigner.getState().reset();
  else navigate('/workflows/new');
}

function Brand() {
  return (
    <a className="brand" href={href('/')}>
      <span className="brand__mark" aria-hidden="true">
        K
      </span>
      Kasal
    </a>
  );
}

export function App() {
  const route = useRoute();
  const status = useSession((s) => s.status);
  const sessionError = useSession((s) => s.error);
  const edit = usePermission('edit');

  useEffect(() => {
    void useSession.getState().load();
  }, []);

  // Signed out (a 401, or the session ended elsewhere): sign in, then come back here.
  useEffect(() => {
    if (status === 'signed-out' && route.page !== 'sign-in') {
      navigate(signInPath(window.location.hash.replace(/^#/, '') || '/'));
    }
  }, [status, route.page]);

  if (route.page === 'sign-in' || status !== 'signed-in') {
    return (
      <div className="app">
        <header className="topbar">
          <Brand />
        </header>
        <main className="app__main">
          {route.page === 'sign-in' ? (
            <Page route={route} />
          ) : status === 'error' ? (
            <div className="page" role="alert">
              Could not reach Kasal: {sessionError}.{' '}
              <button type="button" className="btn btn--secondary btn--sm" onClick={() => void useSession.getState().load()}>
                Try again
              </button>
            </div>
          ) : (
            <p className="page muted">Loading…</p>
          )}
        </main>
      </div>
    );
  }

  return (
    <div className="app">
      <header className="topbar">
        <Brand />
        <nav aria-label="Main" className="topnav">
          {NAV.map((item) => (
            <a
              key={item.path}
              href={href(item.path)}
              className="topnav__link"
              aria-current={item.pages.includes(route.page) ? 'page' : undefined}
            >
              {item.label}
              {item.path === '/approvals' && <ApprovalCount refreshKey={route.page} />}
            </a>
          ))}
        </nav>
        <div className="topbar__end">
          {edit.allowed && (
            <button type="button" className="btn btn--primary btn--sm" onClick={startNewWorkflow}>
              New workflow
            </button>
          )}
          <WorkspaceSwitcher />
          <UserMenu />
        </div>
      </header>
      <main className="app__main">
        <Page route={route} />
      </main>
    </div>
  );
}
