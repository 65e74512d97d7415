// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HttpTool, McpProbeResult, McpServer, ToolInfo } from '../../api/types';
import { useTools } from '../../stores/tools-store';
import { signInAs } from '../../test/fixtures';
import { ToolsPage } from './ToolsPage';

const info = (name: string, kind: ToolInfo['kind']): ToolInfo => ({
  name,
  kind,
  description: `About ${name}`,
  args_schema: { type: 'object' },
  idempotent: true,
});

const WEATHER: HttpTool = {
  name: 'weather',
  kind: 'http',
  version: 2,
  description: 'The weather in a city',
  method: 'GET',
  url_template: 'https://weather.test/{city}',
  headers: { Accept: 'application/json' },
  args_schema: { type: 'object', properties: { city: { type: 'string' } } },
  timeout_seconds: 5,
  idempotent: true,
  secret_header_names: ['X-Api-Key'],
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

const ORDERS: McpServer = {
  name: 'orders',
  version: 1,
  transport: 'streamable-http',
  url: 'http://orders.test/mcp',
  command: null,
  headers: {},
  secret_header_names: [],
  timeout_seconds: 30,
  tools: null,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
};

interface Sent {
  method: string;
  path: string;
  body: unknown;
}

/** A small stand-in for the API: answers by method and path, and records each request. */
function serve(routes: Record<string, (body: unknown) => [number, unknown]>) {
  const sent: Sent[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      const path = url.replace('/api/v1', '');
      const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
      sent.push({ method, path, body });
      const route = routes[`${method} ${path}`];
      const [status, answer] = route ? route(body) : [404, { detail: `nothing at ${method} ${path}` }];
      return status === 204 ? new Response(null, { status }) : new Response(JSON.stringify(answer), { status });
    }),
  );
  return sent;
}

/** A control by its label, without the mark of a required field. */
const field = (label: string) =>
  screen.getByLabelText(label, { normalizer: (text) => text.replace(/\s*\*\s*$/, '').trim() });
const type = (label: string, value: string) => fireEvent.change(field(label), { target: { value } });

let catalogue: ToolInfo[];
let servers: McpServer[];
const lists = {
  'GET /tools': (): [number, unknown] => [200, { items: catalogue }],
  'GET /mcp-servers': (): [number, unknown] => [200, servers],
};

beforeEach(() => {
  signInAs('admin');
  useTools.setState({ catalogue: [], servers: [], status: 'idle', error: null });
  catalogue = [info('fetch_url', 'builtin'), info('calculate', 'builtin'), info('weather', 'http')];
  servers = [ORDERS];
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('tools page', () => {
  it('lists the catalogue, filtered by kind, and the MCP servers', async () => {
    serve(lists);
    render(<ToolsPage />);
    const table = (name: string) => within(screen.getByRole('region', { name }));
    expect(await table('Catalogue').findByText('fetch_url')).toBeTruthy();
    expect(table('Catalogue').getByText('weather')).toBeTruthy();
    expect(table('MCP servers').getByText('orders')).toBeTruthy();
    expect(table('MCP servers').getByText('Not tested')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'http' } });
    expect(table('Catalogue').queryByText('fetch_url')).toBeNull();
    expect(table('Catalogue').getByText('weather')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'mcp' } });
    expect(table('Catalogue').getByText('No tools of this kind.')).toBeTruthy();
  });

  it('creates an HTTP tool, its secret headers sent once, and shows each problem by its field', async () => {
    let attempts = 0;
    const sent = serve({
      ...lists,
      'POST /tools': () => {
        attempts += 1;
        if (attempts === 1) {
          return [
            422,
            {
              detail: [
                {
                  loc: ['body', 'url_template'],
                  msg: 'Value error, {day}: every variable must be a property of args_schema',
                  type: 'value_error',
                },
              ],
            },
          ];
        }
        catalogue = [...catalogue, info('forecast', 'http')];
        return [201, { ...WEATHER, name: 'forecast' }];
      },
    });
    render(<ToolsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'New HTTP tool' }));
    const dialog = within(screen.getByRole('dialog', { name: 'New HTTP tool' }));
    type('Name', 'forecast');
    type('Description', 'The forecast');
    type('Method', 'POST');
    type('URL template', 'https://weather.test/{city}/{day}');
    type('Arguments schema', '{"type": "object", "properties": {"city": {"type": "string"}}}');
    type('Headers', 'Accept: application/json');
    type('Secret headers', 'X-Api-Key: sk-secret-1');
    type('Timeout (seconds)', '12');
    fireEvent.click(dialog.getByRole('button', { name: 'Create tool' }));

    const url = await waitFor(() => field('URL template'));
    await waitFor(() => expect(url.getAttribute('aria-invalid')).toBe('true'));
    expect(dialog.getByText('{day}: every variable must be a property of args_schema')).toBeTruthy();
    expect(sent.at(-1)).toEqual({
      method: 'POST',
      path: '/tools',
      body: {
        name: 'forecast',
        kind: 'http',
        description: 'The forecast',
        method: 'POST',
        url_template: 'https://weather.test/{city}/{day}',
        args_schema: { type: 'object', properties: { city: { type: 'string' } } },
        headers: { Accept: 'application/json' },
        secret_headers: { 'X-Api-Key': 'sk-secret-1' },
        timeout_seconds: 12,
        idempotent: null,
      },
    });

    type('URL template', 'https://weather.test/{city}');
    fireEvent.click(dialog.getByRole('button', { name: 'Create tool' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(await screen.findByText('forecast')).toBeTruthy();
  });

  it('catches what it can before sending: JSON, header lines', async () => {
    const sent = serve(lists);
    render(<ToolsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'New HTTP tool' }));
    type('Arguments schema', '{"type": ');
    type('Headers', 'no colon here');
    fireEvent.click(screen.getByRole('button', { name: 'Create tool' }));
    expect(screen.getByLabelText('Arguments schema').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Line 1: write a header as Name: value')).toBeTruthy();
    expect(sent.filter((request) => request.method === 'POST')).toEqual([]);
  });

  it('edits an HTTP tool, keeping its secret headers unless replaced or removed', async () => {
    const sent = serve({
      ...lists,
      'GET /tools/weather': () => [200, WEATHER],
      'PUT /tools/weather': () => [200, { ...WEATHER, version: 3 }],
    });
    render(<ToolsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit weather' }));
    const dialog = within(await screen.findByRole('dialog', { name: 'Edit HTTP tool weather' }));
    expect(field('Name')).toHaveProperty('disabled', true);
    expect(field('URL template')).toHaveProperty('value', 'https://weather.test/{city}');
    expect(dialog.getByText(/Stored: X-Api-Key\./)).toBeTruthy();
    expect(dialog.getByLabelText('Secret headers')).toHaveProperty('value', '');
    type('Description', 'Today’s weather');
    fireEvent.click(dialog.getByRole('button', { name: 'Save version' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const put = sent.find((request) => request.method === 'PUT');
    expect(put?.body).toMatchObject({ description: 'Today’s weather', idempotent: true });
    expect(put?.body).not.toHaveProperty('secret_headers');

    fireEvent.click(screen.getByRole('button', { name: 'Edit weather' }));
    fireEvent.click(await screen.findByLabelText('Remove the stored secret headers'));
    fireEvent.click(screen.getByRole('button', { name: 'Save version' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(sent.filter((request) => request.method === 'PUT').at(-1)?.body).toMatchObject({ secret_headers: null });
  });

  it('defines a stdio MCP server with its command, one argument per line', async () => {
    const sent = serve({ ...lists, 'POST /mcp-servers': () => [201, { ...ORDERS, name: 'files' }] });
    render(<ToolsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'New MCP server' }));
    type('Name', 'files');
    expect(field('URL')).toBeTruthy();
    type('Transport', 'stdio');
    expect(screen.queryByRole('textbox', { name: 'URL' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Create server' }));
    expect(screen.getByText('Required: the program, then one argument per line')).toBeTruthy();
    type('Command', 'npx\n-y\n@modelcontextprotocol/server-filesystem\n');
    fireEvent.click(screen.getByRole('button', { name: 'Create server' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(sent.find((request) => request.method === 'POST')?.body).toEqual({
      name: 'files',
      transport: 'stdio',
      url: null,
      command: ['npx', '-y', '@modelcontextprotocol/server-filesystem'],
      headers: {},
      secret_headers: {},
      timeout_seconds: 30,
    });
  });

  it('tests a connection: the tools found, or why not', async () => {
    let answer: McpProbeResult = { ok: false, tools: [], error: 'connection refused' };
    serve({
      ...lists,
      'POST /mcp-servers/orders/test': () => {
        if (answer.ok) {
          servers = [{ ...ORDERS, tools: answer.tools }];
          catalogue = [...catalogue, ...answer.tools];
        }
        return [200, answer];
      },
    });
    render(<ToolsPage />);
    const testButton = await screen.findByRole('button', { name: 'Test connection to orders' });
    fireEvent.click(testButton);
    expect(await screen.findByText('Cannot connect: connection refused')).toBeTruthy();

    answer = { ok: true, tools: [info('orders.lookup', 'mcp'), info('orders.cancel', 'mcp')], error: null };
    fireEvent.click(testButton);
    expect(await screen.findByText('Connected: 2 tools')).toBeTruthy();
    expect(await screen.findByText('orders.lookup')).toBeTruthy();
    const servers_ = within(screen.getByRole('region', { name: 'MCP servers' }));
    expect(servers_.getByRole('cell', { name: '2' })).toBeTruthy();
  });

  it('offers those below admin no way to add, change or test tools, and says why', async () => {
    signInAs('editor');
    serve(lists);
    render(<ToolsPage />);
    expect(await screen.findByText('weather')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'New HTTP tool' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'New MCP server' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit weather' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Test connection to orders' })).toBeNull();
    expect(screen.getByRole('note').textContent).toBe(
      'Only admins can add, change or test models, tools and MCP servers: you are an editor here.',
    );
  });
});
