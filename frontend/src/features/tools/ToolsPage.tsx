import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, errorMessage } from '../../api/client';
import type { HttpTool, McpProbeResult, McpServer, ToolInfo, ToolKind } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { Notice } from '../../components/Notice';
import { usePermission } from '../../stores/session-store';
import { useTools } from '../../stores/tools-store';
import { RoleNote } from '../account/RoleNote';
import { HttpToolDialog } from './HttpToolDialog';
import { McpServerDialog } from './McpServerDialog';

const KINDS: { value: ToolKind | ''; label: string }[] = [
  { value: '', label: 'All kinds' },
  { value: 'builtin', label: 'Built-in' },
  { value: 'http', label: 'HTTP' },
  { value: 'mcp', label: 'MCP' },
];
const KIND_LABEL: Record<ToolKind, string> = { builtin: 'Built-in', http: 'HTTP', mcp: 'MCP' };

type Editing = { type: 'http'; tool: HttpTool | null } | { type: 'mcp'; server: McpServer | null } | null;
type Probe = McpProbeResult | 'testing' | { failed: string };

/** What one test of a server found, in a sentence. */
function probeText(probe: Probe | undefined): string {
  if (probe === undefined) return '';
  if (probe === 'testing') return 'Testing…';
  if ('failed' in probe) return `Could not test: ${probe.failed}`;
  if (!probe.ok) return `Cannot connect: ${probe.error ?? 'no reason given'}`;
  return `Connected: ${probe.tools.length} ${probe.tools.length === 1 ? 'tool' : 'tools'}`;
}

/** The tools agents may use, and the HTTP tools and MCP servers users define. */
export function ToolsPage() {
  const { catalogue, servers, status, error, ensureLoaded, reload } = useTools(
    useShallow((s) => ({
      catalogue: s.catalogue,
      servers: s.servers,
      status: s.status,
      error: s.error,
      ensureLoaded: s.ensureLoaded,
      reload: s.reload,
    })),
  );
  const [kind, setKind] = useState<ToolKind | ''>('');
  const [editing, setEditing] = useState<Editing>(null);
  const [probes, setProbes] = useState<Record<string, Probe>>({});
  const [actionError, setActionError] = useState<string | null>(null);
  const configure = usePermission('configure');

  useEffect(() => {
    void ensureLoaded();
  }, [ensureLoaded]);

  const act = async (action: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await action();
      await reload();
    } catch (e) {
      setActionError(errorMessage(e));
    }
  };

  const editHttpTool = async (name: string) => {
    setActionError(null);
    try {
      setEditing({ type: 'http', tool: await api.getHttpTool(name) });
    } catch (e) {
      setActionError(errorMessage(e));
    }
  };
  const removeHttpTool = (name: string) => {
    if (window.confirm(`Delete the HTTP tool “${name}”? Agents that name it no longer compile.`)) {
      void act(() => api.deleteHttpTool(name));
    }
  };
  const removeServer = (name: string) => {
    if (window.confirm(`Delete the MCP server “${name}”? Agents that name its tools no longer compile.`)) {
      void act(() => api.deleteMcpServer(name));
    }
  };
  const test = async (name: string) => {
    setProbes((current) => ({ ...current, [name]: 'testing' }));
    let probe: Probe;
    try {
      probe = await api.testMcpServer(name);
    } catch (e) {
      probe = { failed: errorMessage(e) };
    }
    setProbes((current) => ({ ...current, [name]: probe }));
    if ('ok' in probe && probe.ok) await reload();
  };
  const saved = async () => {
    setEditing(null);
    await reload();
  };

  const toolColumns: Column<ToolInfo>[] = [
    { header: 'Name', className: 'mono', cell: (tool) => tool.name },
    { header: 'Kind', cell: (tool) => KIND_LABEL[tool.kind] },
    { header: 'Description', className: 'muted', cell: (tool) => tool.description },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'table__actions',
      cell: (tool) =>
        tool.kind === 'http' &&
        configure.allowed && (
          <>
            <button
              type="button"
              className="btn btn--ghost btn--sm"
              aria-label={`Edit ${tool.name}`}
              onClick={() => void editHttpTool(tool.name)}
            >
              Edit
            </button>
            <button
              type="button"
              className="btn btn--ghost btn--sm"
              aria-label={`Delete ${tool.name}`}
              onClick={() => removeHttpTool(tool.name)}
            >
              Delete
            </button>
          </>
        ),
    },
  ];
  const serverColumns: Column<McpServer>[] = [
    { header: 'Name', className: 'mono', cell: (server) => server.name },
    { header: 'Transport', cell: (server) => server.transport },
    {
      header: 'Endpoint',
      className: 'mono',
      cell: (server) => server.url ?? (server.command ?? []).join(' '),
    },
    {
      header: 'Tools',
      cell: (server) => (server.tools === null ? 'Not tested' : server.tools.length),
    },
    {
      header: 'Last test',
      cell: (server) => <span role="status">{probeText(probes[server.name])}</span>,
    },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'table__actions',
      cell: (server) =>
        configure.allowed && (
        <>
          <button
            type="button"
            className="btn btn--secondary btn--sm"
            aria-label={`Test connection to ${server.name}`}
            disabled={probes[server.name] === 'testing'}
            onClick={() => void test(server.name)}
          >
            Test connection
          </button>
          <button
            type="button"
            className="btn btn--ghost btn--sm"
            aria-label={`Edit ${server.name}`}
            onClick={() => setEditing({ type: 'mcp', server })}
          >
            Edit
          </button>
          <button
            type="button"
            className="btn btn--ghost btn--sm"
            aria-label={`Delete ${server.name}`}
            onClick={() => removeServer(server.name)}
          >
            Delete
          </button>
        </>
      ),
    },
  ];
  const loaded = status === 'ready' || catalogue.length > 0;
  const shown = catalogue.filter((tool) => !kind || tool.kind === kind);

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Tools</h1>
        <div className="button-row">
          <select
            className="input"
            aria-label="Kind"
            value={kind}
            onChange={(e) => setKind(e.target.value as ToolKind | '')}
          >
            {KINDS.map((item) => (
              <option key={item.value} value={item.value}>
                {item.label}
              </option>
            ))}
          </select>
          {configure.allowed && (
            <>
              <button type="button" className="btn btn--primary" onClick={() => setEditing({ type: 'http', tool: null })}>
                New HTTP tool
              </button>
              <button type="button" className="btn btn--secondary" onClick={() => setEditing({ type: 'mcp', server: null })}>
                New MCP server
              </button>
            </>
          )}
        </div>
      </header>
      <RoleNote reasons={[configure.reason]} />
      {actionError && <Notice>{actionError}</Notice>}
      <section aria-labelledby="tools-catalogue" className="form">
        <h2 id="tools-catalogue" className="section-title">
          Catalogue
        </h2>
        <ListTable
          items={loaded ? shown : null}
          error={error}
          columns={toolColumns}
          rowKey={(tool) => `${tool.kind}:${tool.name}`}
          empty={<p>No tools of this kind.</p>}
        />
      </section>
      <section aria-labelledby="tools-mcp-servers" className="form">
        <h2 id="tools-mcp-servers" className="section-title">
          MCP servers
        </h2>
        <ListTable
          items={loaded ? servers : null}
          error={null}
          columns={serverColumns}
          rowKey={(server) => server.name}
          empty={<p>No MCP servers yet. Test a server to list its tools in the catalogue.</p>}
        />
      </section>
      {editing?.type === 'http' && (
        <HttpToolDialog tool={editing.tool} onClose={() => setEditing(null)} onSaved={() => void saved()} />
      )}
      {editing?.type === 'mcp' && (
        <McpServerDialog server={editing.server} onClose={() => setEditing(null)} onSaved={() => void saved()} />
      )}
    </div>
  );
}
