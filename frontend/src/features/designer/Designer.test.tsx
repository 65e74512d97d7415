// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { ReactFlowProvider } from '@xyflow/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphToDefinition } from '../../lib/graph';
import { mapIssues } from '../../lib/validation';
import type { ToolInfo } from '../../api/types';
import { useDesigner } from '../../stores/designer-store';
import { useTools } from '../../stores/tools-store';
import { InputsEditor } from './InputsEditor';
import { Palette } from './Palette';
import { PropertiesPanel } from './PropertiesPanel';

const type = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

/** Pick exactly `names` in the multiple select labelled `label`, as Ctrl-clicks would. */
function pick(label: string, names: string[]) {
  const select = screen.getByLabelText(label) as HTMLSelectElement;
  for (const option of Array.from(select.options)) option.selected = names.includes(option.value);
  fireEvent.change(select);
}

const tool = (name: string, kind: ToolInfo['kind']): ToolInfo => ({
  name,
  kind,
  description: `${name} does things`,
  args_schema: { type: 'object' },
  idempotent: true,
});

function Designer() {
  return (
    <ReactFlowProvider>
      <Palette />
      <InputsEditor />
      <PropertiesPanel />
    </ReactFlowProvider>
  );
}

beforeEach(() => {
  useDesigner.getState().reset();
  useTools.setState({
    catalogue: [tool('fetch_url', 'builtin'), tool('calculate', 'builtin'), tool('weather', 'http'), tool('orders.lookup', 'mcp')],
    servers: [],
    status: 'ready',
    error: null,
  });
});
afterEach(cleanup);

describe('designer side panel', () => {
  it('builds a workflow from the palette and the fields, as a person would', () => {
    render(<Designer />);
    fireEvent.click(screen.getByRole('button', { name: 'Add agent' }));
    type('Id', 'researcher');
    type('Role', 'Researcher');
    type('Goal', 'Find facts about {topic}');
    type('Backstory', 'Curious.');
    pick('Tools', ['weather', 'fetch_url']);
    type('Max iterations', '7');

    fireEvent.click(screen.getByRole('button', { name: 'Add task' }));
    type('Id', 'research');
    fireEvent.change(screen.getByLabelText('Agent'), { target: { value: 'researcher' } });
    type('Description', 'Research {topic}');
    type('Expected output', 'Notes');
    type('Max attempts', '5');
    fireEvent.change(screen.getByLabelText('On failure'), { target: { value: 'fail' } });

    fireEvent.click(screen.getByRole('button', { name: 'Add approval gate' }));
    type('Id', 'review');
    type('Message', 'Publish?');
    type('Approvers', 'ann@kasal.test, editor\n\n');
    fireEvent.click(within(screen.getByRole('group', { name: 'Runs after' })).getByLabelText('research'));
    fireEvent.change(screen.getByLabelText('On timeout'), { target: { value: 'approve' } });

    fireEvent.click(screen.getByRole('button', { name: 'Add input' }));
    type('Input name', 'topic');

    expect(graphToDefinition(useDesigner.getState())).toMatchObject({
      inputs: [{ name: 'topic', required: true }],
      agents: [{ id: 'researcher', role: 'Researcher', tools: ['fetch_url', 'weather'], max_iter: 7, llm: 'local' }],
      steps: [
        { id: 'research', type: 'task', agent: 'researcher', retry: { max_attempts: 5 }, on_failure: 'fail' },
        {
          id: 'review',
          type: 'approval',
          after: ['research'],
          message: 'Publish?',
          on_timeout: 'approve',
          approvers: ['ann@kasal.test', 'editor'],
        },
      ],
    });
    expect((screen.getByLabelText('Approvers') as HTMLTextAreaElement).value).toBe('ann@kasal.test, editor\n\n');
    type('Approvers', '');
    expect(JSON.stringify(graphToDefinition(useDesigner.getState()).steps[1])).not.toContain('approvers');
  });

  it('picks tools from the catalogue by kind, and keeps a name it lacks visible', () => {
    useTools.setState({
      servers: [
        {
          name: 'orders',
          version: 1,
          transport: 'streamable-http',
          url: 'http://orders.test/mcp',
          command: null,
          headers: {},
          secret_header_names: [],
          timeout_seconds: 30,
          tools: [tool('orders.lookup', 'mcp')],
          created_at: '2026-12-01T00:00:00Z',
          updated_at: '2026-12-01T00:00:00Z',
        },
      ],
    });
    render(<Designer />);
    fireEvent.click(screen.getByRole('button', { name: 'Add agent' }));
    const picker = screen.getByRole('listbox', { name: 'Tools' });
    const groups = Array.from(picker.querySelectorAll('optgroup'), (group) => [
      group.label,
      Array.from(group.querySelectorAll('option'), (option) => option.value),
    ]);
    expect(groups).toEqual([
      ['Built-in', ['fetch_url', 'calculate']],
      ['HTTP', ['weather']],
      ['MCP', ['orders.*', 'orders.lookup']],
    ]);

    pick('Tools', ['orders.*', 'calculate']);
    pick('Tools', ['orders.*', 'calculate', 'weather']);
    const agentTools = () => graphToDefinition(useDesigner.getState()).agents?.[0]?.tools;
    expect(agentTools()).toEqual(['calculate', 'orders.*', 'weather']);

    // A tool deleted since (or never defined) stays chosen, marked, until unpicked.
    act(() => useTools.setState({ catalogue: [tool('calculate', 'builtin')], servers: [] }));
    expect(screen.getByRole('option', { name: 'weather (unknown)' })).toHaveProperty('selected', true);
    pick('Tools', ['calculate']);
    expect(agentTools()).toEqual(['calculate']);
  });

  it('keeps a taken id as a draft and says why', () => {
    render(<Designer />);
    fireEvent.click(screen.getByRole('button', { name: 'Add task' }));
    fireEvent.click(screen.getByRole('button', { name: 'Add task' }));
    type('Id', 'task_1');
    expect(screen.getByLabelText('Id')).toHaveProperty('value', 'task_1');
    expect(screen.getByText('Another node already uses this id')).toBeTruthy();
    expect(useDesigner.getState().nodes.map((n) => n.id)).toEqual(['task_1', 'task_2']);
  });

  it('shows each validation error next to its field, tied to the control', () => {
    render(<Designer />);
    fireEvent.click(screen.getByRole('button', { name: 'Add input' }));
    fireEvent.click(screen.getByRole('button', { name: 'Add task' }));
    const spec = graphToDefinition(useDesigner.getState());
    act(() =>
      useDesigner.getState().setValidation(
        'invalid',
      mapIssues(
        [
          { loc: ['steps', 0, 'agent'], msg: 'Field required' },
          { loc: ['steps', 0, 'description'], msg: 'String should have at least 1 character' },
          { loc: ['inputs', 0, 'name'], msg: "String should match pattern '^[A-Za-z_][A-Za-z0-9_]{0,63}$'" },
        ],
          spec,
        ),
      ),
    );
    const agent = screen.getByLabelText('Agent');
    expect(agent.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(agent.getAttribute('aria-describedby') ?? '')?.textContent).toBe('Required');
    expect(screen.getByLabelText('Description').getAttribute('aria-invalid')).toBe('true');
    const name = screen.getByLabelText('Input name');
    expect(document.getElementById(name.getAttribute('aria-describedby') ?? '')?.textContent).toMatch(/Start with a letter/);
  });
});
