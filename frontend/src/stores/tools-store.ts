/** The tool catalogue (GET /tools) and the MCP servers (GET /mcp-servers), shared by the
 * tools page and the agent form's tool picker. */
import { create } from 'zustand';
import { api, errorMessage } from '../api/client';
import type { McpServer, ToolInfo } from '../api/types';

export interface ToolsState {
  catalogue: ToolInfo[];
  servers: McpServer[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
}

export interface ToolsActions {
  /** Fetch both lists unless they are already loaded or loading. */
  ensureLoaded: () => Promise<void>;
  /** Fetch both lists again (after a change). */
  reload: () => Promise<void>;
}

export const useTools = create<ToolsState & ToolsActions>()((set, get) => ({
  catalogue: [],
  servers: [],
  status: 'idle',
  error: null,
  ensureLoaded: async () => {
    if (get().status === 'loading' || get().status === 'ready') return;
    await get().reload();
  },
  reload: async () => {
    set({ status: 'loading', error: null });
    try {
      const [catalogue, servers] = await Promise.all([api.listTools(), api.listMcpServers()]);
      set({ catalogue: catalogue.items, servers, status: 'ready' });
    } catch (error) {
      set({ status: 'error', error: errorMessage(error) });
    }
  },
}));

/** What an agent's tool picker offers: each catalogue name, and `<server>.*` per server. */
export function toolChoices(catalogue: ToolInfo[], servers: McpServer[]): { group: string; names: string[] }[] {
  const of = (kind: ToolInfo['kind']) => catalogue.filter((tool) => tool.kind === kind).map((tool) => tool.name);
  return [
    { group: 'Built-in', names: of('builtin') },
    { group: 'HTTP', names: of('http') },
    { group: 'MCP', names: [...servers.map((server) => `${server.name}.*`), ...of('mcp')] },
  ].filter((choice) => choice.names.length > 0);
}
