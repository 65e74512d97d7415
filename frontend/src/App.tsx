import { ApprovalsPage } from './features/approvals/ApprovalsPage';
import { DesignerPage } from './features/designer/DesignerPage';
import { RunConsolePage } from './features/runs/RunConsolePage';
import { RunsPage } from './features/runs/RunsPage';
import { ToolsPage } from './features/tools/ToolsPage';
import { WorkflowsPage } from './features/workflows/WorkflowsPage';
import { href, navigate, parseRoute, useRoute, type Route } from './router';
import { useDesigner } from './stores/designer-store';

const currentRoute = () => parseRoute(window.location.hash);

const NAV: { label: string; path: string; pages: Route['page'][] }[] = [
  { label: 'Workflows', path: '/', pages: ['workflows', 'designer'] },
  { label: 'Runs', path: '/runs', pages: ['runs', 'run'] },
  { label: 'Approvals', path: '/approvals', pages: ['approvals'] },
  { label: 'Tools', path: '/tools', pages: ['tools'] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'workflows':
      return <WorkflowsPage />;
    case 'designer':
      return <DesignerPage workflowId={route.workflowId} />;
    case 'runs':
      return <RunsPage workflowId={route.workflowId} status={route.status} />;
    case 'run':
      return <RunConsolePage key={route.runId} runId={route.runId} />;
    case 'approvals':
      return <ApprovalsPage />;
    case 'tools':
      return <ToolsPage />;
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

export function App() {
  const route = useRoute();
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href={href('/')}>
          <span className="brand__mark" aria-hidden="true">
            K
          </span>
          Kasal
        </a>
        <nav aria-label="Main" className="topnav">
          {NAV.map((item) => (
            <a
              key={item.path}
              href={href(item.path)}
              className="topnav__link"
              aria-current={item.pages.includes(route.page) ? 'page' : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <button type="button" className="btn btn--primary btn--sm topbar__new" onClick={startNewWorkflow}>
          New workflow
        </button>
      </header>
      <main className="app__main">
        <Page route={route} />
      </main>
    </div>
  );
}
