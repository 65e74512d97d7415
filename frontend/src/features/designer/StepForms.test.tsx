// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { ReactFlowProvider } from '@xyflow/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { graphToDefinition } from '../../lib/graph';
import { mapIssues } from '../../lib/validation';
import { useDesigner } from '../../stores/designer-store';
import { useWorkflowList } from '../../stores/workflow-list-store';
import { Palette } from './Palette';
import { PropertiesPanel } from './PropertiesPanel';

const type = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });
const add = (name: string) => fireEvent.click(screen.getByRole('button', { name }));
const tick = (group: string, option: string) =>
  fireEvent.click(within(screen.getByRole('group', { name: group })).getByLabelText(option));
const spec = () => graphToDefinition(useDesigner.getState());
const step = (id: string) => spec().steps.find((s) => s.id === id);
const errorOf = (label: string) => {
  const control = screen.getByLabelText(label);
  expect(control.getAttribute('aria-invalid')).toBe('true');
  return control.getAttribute('aria-describedby')?.split(' ').map((id) => document.getElementById(id)?.textContent).join(' | ');
};

function Designer() {
  return (
    <ReactFlowProvider>
      <Palette />
      <PropertiesPanel />
    </ReactFlowProvider>
  );
}

beforeEach(() => {
  useDesigner.getState().reset();
  useWorkflowList.setState({ workflows: [], status: 'idle', error: null });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('forms of the new step types', () => {
  it('a condition: its expression, its then and else steps, and its join', () => {
    render(<Designer />);
    add('Add task');
    add('Add task');
    add('Add condition');
    type('Id', 'urgent');
    type('If', 'output("task_1").urgent == true');
    tick('Then', 'task_1');
    tick('Else', 'task_2');
    fireEvent.change(screen.getByLabelText('Join'), { target: { value: 'any' } });
    expect(step('urgent')).toEqual({
      id: 'urgent',
      type: 'condition',
      if: 'output("task_1").urgent == true',
      join: 'any',
      after: [],
      then: ['task_1'],
      else: ['task_2'],
    });
    expect(step('task_1')).toMatchObject({ after: ['urgent'] });
    expect(within(screen.getByRole('group', { name: 'Runs after' })).getByLabelText('task_1')).toHaveProperty('checked', false);
  });

  it('a router: ordered routes, a default, the steps each takes, and errors on the route they name', () => {
    render(<Designer />);
    add('Add task');
    add('Add task');
    add('Add router');
    type('Route 1 name', 'refund');
    type('Route 1 if', 'output("c").label == "refund"');
    add('Add route');
    type('Route 2 name', 'bug');
    type('Route 2 if', 'output("c").label == "bug"');
    type('Default route', 'general');
    tick('Steps for refund', 'task_1');
    tick('Steps for general', 'task_2');
    add('Move route 2 up');
    expect(step('router_1')).toMatchObject({
      routes: [
        { name: 'bug', if: 'output("c").label == "bug"' },
        { name: 'refund', if: 'output("c").label == "refund"' },
      ],
      default: 'general',
      targets: { bug: [], refund: ['task_1'], general: ['task_2'] },
    });

    // The steps of a renamed route follow it; those of a removed route go.
    type('Route 2 name', 'refunds');
    expect(step('router_1')).toMatchObject({ targets: { bug: [], refunds: ['task_1'], general: ['task_2'] } });
    add('Remove route 2');
    expect(step('router_1')).toMatchObject({ routes: [{ name: 'bug' }], targets: { bug: [], general: ['task_2'] } });
    expect(step('task_1')).toMatchObject({ after: [] });

    act(() =>
      useDesigner.getState().setValidation(
        'invalid',
        mapIssues([{ loc: ['steps', 2, 'routes', 0, 'if'], msg: "unknown step 'c'" }], spec()),
      ),
    );
    expect(errorOf('Route 1 if')).toContain("unknown step 'c'");
  });

  it('a map: items, max parallel, chunk size and template steps as JSON, kept as a draft while they do not parse', () => {
    render(<Designer />);
    add('Add map');
    expect((screen.getByRole('spinbutton', { name: 'Chunk size' }) as HTMLInputElement).value).toBe('100');
    type('Items', 'inputs.urls');
    type('Max parallel', '3');
    type('Chunk size', '25');
    type('Template steps (JSON)', '[{"id": "fetch", "type": "task"');
    expect(errorOf('Template steps (JSON)')).toMatch(/Not valid JSON/);
    expect(step('map_1')).toMatchObject({ steps: [] });
    type('Template steps (JSON)', '{"id": "fetch"}');
    expect(errorOf('Template steps (JSON)')).toMatch(/JSON list of steps/);
    const template = [{ id: 'fetch', type: 'task', agent: 'a', description: 'Fetch {item}', expected_output: 'Text' }];
    type('Template steps (JSON)', JSON.stringify(template));
    expect(step('map_1')).toEqual({
      id: 'map_1',
      type: 'map',
      items: 'inputs.urls',
      max_parallel: 3,
      chunk_size: 25,
      steps: template,
      after: [],
    });

    act(() =>
      useDesigner.getState().setValidation(
        'invalid',
        mapIssues([{ loc: ['steps', 0, 'steps', 0, 'agent'], msg: "unknown agent 'a'" }], spec()),
      ),
    );
    expect(errorOf('Template steps (JSON)')).toContain("fetch.agent: unknown agent 'a'");
    // The step's own field shows it too, in the step's group.
    const fetch = within(screen.getByRole('group', { name: 'fetch (task)' }));
    const agent = fetch.getByLabelText('Agent');
    expect(agent.getAttribute('aria-invalid')).toBe('true');
    expect((agent as HTMLSelectElement).value).toBe('a');
  });

  it("a map's template tasks and gates edited field by field, their links kept through a rename and a removal", () => {
    render(<Designer />);
    add('Add agent');
    add('Add map');
    add('Add template task');
    add('Add template gate');
    const task = () => within(screen.getByRole('group', { name: /\(task\)$/ }));
    fireEvent.change(task().getByLabelText('Agent'), { target: { value: 'agent_1' } });
    fireEvent.change(task().getByLabelText('Description'), { target: { value: 'Summarise {item}' } });
    fireEvent.change(task().getByLabelText('Expected output'), { target: { value: 'A line' } });
    const gate = () => within(screen.getByRole('group', { name: /\(approval\)$/ }));
    fireEvent.change(gate().getByLabelText('Message'), { target: { value: 'Keep {item}?' } });
    expect(step('map_1')).toMatchObject({
      steps: [
        { id: 'task_1', type: 'task', agent: 'agent_1', description: 'Summarise {item}', expected_output: 'A line', after: [] },
        { id: 'gate_1', type: 'approval', message: 'Keep {item}?', after: ['task_1'] },
      ],
    });

    fireEvent.change(task().getByLabelText('Step id'), { target: { value: 'summary' } });
    fireEvent.change(gate().getByLabelText('Step id'), { target: { value: 'summary' } });
    const takenId = gate().getByLabelText('Step id');
    expect(takenId.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(takenId.getAttribute('aria-describedby') ?? '')?.textContent).toContain(
      'Another template step already uses this id',
    );
    expect(step('map_1')).toMatchObject({ steps: [{ id: 'summary' }, { id: 'gate_1', after: ['summary'] }] });

    fireEvent.click(within(gate().getByRole('group', { name: 'Waits for' })).getByLabelText('summary'));
    expect(step('map_1')).toMatchObject({ steps: [{ id: 'summary' }, { id: 'gate_1', after: [] }] });
    fireEvent.click(within(gate().getByRole('group', { name: 'Waits for' })).getByLabelText('summary'));
    add('Remove summary');
    expect(step('map_1')).toMatchObject({ steps: [{ id: 'gate_1', after: [] }] });
  });

  it('a loop: until, max iterations and template steps', () => {
    render(<Designer />);
    add('Add loop');
    type('Until', 'output("check") contains "done"');
    type('Max iterations', '4');
    type('Template steps (JSON)', '[{"id": "check", "type": "approval", "message": "Done?"}]');
    fireEvent.change(screen.getByLabelText('Join'), { target: { value: 'any' } });
    expect(step('loop_1')).toEqual({
      id: 'loop_1',
      type: 'loop',
      until: 'output("check") contains "done"',
      max_iterations: 4,
      steps: [{ id: 'check', type: 'approval', message: 'Done?' }],
      join: 'any',
      after: [],
    });
  });

  it('a sub-workflow: a saved workflow by name, a version, and inputs as text or expressions', async () => {
    const summary = (name: string, version: number) => ({ id: `id-${name}`, name, version, description: '', created_at: '', updated_at: '' });
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ items: [summary('send-notice', 3), summary('audit', 1)], total: 2 })));
    vi.stubGlobal('fetch', fetchMock);
    render(<Designer />);
    add('Add sub-workflow');
    await screen.findByRole('option', { name: 'send-notice' });
    expect(String((fetchMock.mock.calls[0] as unknown as [string])[0])).toMatch(/\/api\/v1\/workflows\?limit=200$/);
    fireEvent.change(screen.getByLabelText('Workflow'), { target: { value: 'send-notice' } });
    const versions = within(screen.getByLabelText('Version')).getAllByRole('option').map((o) => o.textContent);
    expect(versions).toEqual(['Latest (pinned when a run starts)', 'Version 3', 'Version 2', 'Version 1']);
    fireEvent.change(screen.getByLabelText('Version'), { target: { value: '2' } });
    add('Add workflow input');
    type('Input 1 name', 'ticket');
    type('Input 1 value', '{ticket}');
    add('Add workflow input');
    type('Input 2 name', 'label');
    type('Input 2 value', 'output("classify").label');
    fireEvent.click(screen.getByLabelText('Input 2 is an expression'));
    expect(step('call_1')).toEqual({
      id: 'call_1',
      type: 'workflow',
      workflow: 'send-notice',
      version: 2,
      inputs: { ticket: '{ticket}', label: { expr: 'output("classify").label' } },
      after: [],
    });
    fireEvent.change(screen.getByLabelText('Version'), { target: { value: 'latest' } });
    expect(step('call_1')).toMatchObject({ version: 'latest' });
  });

  it('a task: an output schema validated as a JSON object, and a join', () => {
    render(<Designer />);
    add('Add task');
    type('Output schema', '{"type": "object",');
    expect(errorOf('Output schema')).toMatch(/Not valid JSON/);
    type('Output schema', '["label"]');
    expect(errorOf('Output schema')).toMatch(/JSON object/);
    type('Output schema', '{"type": "object", "required": ["label"]}');
    expect(step('task_1')).toMatchObject({ output_schema: { type: 'object', required: ['label'] } });
    // What was typed stays as typed, not re-printed.
    expect(screen.getByLabelText('Output schema')).toHaveProperty('value', '{"type": "object", "required": ["label"]}');
    type('Output schema', '');
    expect(JSON.stringify(step('task_1'))).not.toContain('output_schema');
    fireEvent.change(screen.getByLabelText('Join'), { target: { value: 'any' } });
    expect(step('task_1')).toMatchObject({ join: 'any' });
  });
});
