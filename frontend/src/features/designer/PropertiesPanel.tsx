import { useShallow } from 'zustand/react/shallow';
import { Notice } from '../../components/Notice';
import type { FieldMessages } from '../../lib/validation';
import { NODE_CONFIG } from '../../nodes/registry';
import type { AppNode, NodeKind } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { AgentForm } from './AgentForm';
import { ConditionForm } from './ConditionForm';
import { GateForm } from './GateForm';
import { RouterForm } from './RouterForm';
import { TaskForm } from './TaskForm';
import { LoopForm, MapForm } from './TemplateForms';
import { WorkflowCallForm } from './WorkflowCallForm';

/** Fields each form shows its errors next to; errors of any other field are listed on top. */
const FORM_FIELDS: Record<NodeKind, string[]> = {
  agent: ['id', 'role', 'goal', 'backstory', 'llm', 'tools', 'max_iter'],
  task: [
    'id',
    'agent',
    'description',
    'expected_output',
    'after',
    'retry.max_attempts',
    'retry.initial_interval_seconds',
    'retry.backoff',
    'timeout_seconds',
    'on_failure',
    'output_schema',
    'join',
  ],
  approval: ['id', 'message', 'after', 'timeout_seconds', 'on_timeout', 'on_reject', 'max_rejections', 'join'],
  condition: ['id', 'if', 'then', 'else', 'after', 'join'],
  // Route fields (`routes.<n>.name`, `targets.<name>`) are matched by prefix below.
  router: ['id', 'routes', 'default', 'targets', 'after', 'join'],
  map: ['id', 'items', 'max_parallel', 'steps', 'after', 'join'],
  loop: ['id', 'until', 'max_iterations', 'steps', 'after', 'join'],
  workflow: ['id', 'workflow', 'version', 'inputs', 'after', 'join'],
};

/** True when the form for `kind` shows `field`'s errors itself. */
const shows = (kind: NodeKind, field: string): boolean =>
  FORM_FIELDS[kind].includes(field) ||
  (kind === 'router' && /^(routes\.\d+\.(name|if)|targets\..+)$/.test(field));

const NO_MESSAGES: FieldMessages = {};

/** What the panel needs of a node (not its position, so dragging does not re-render it). */
type Selected = AppNode extends infer N ? (N extends AppNode ? Pick<N, 'id' | 'type' | 'data'> : never) : never;

/** The side panel: every field of the selected node. */
export function PropertiesPanel() {
  const node = useDesigner(
    useShallow((s) => {
      const selected = s.nodes.find((n) => n.selected);
      return selected ? ({ id: selected.id, type: selected.type, data: selected.data } as Selected) : null;
    }),
  );
  const issues = useDesigner((s) => (node ? s.issues.nodes[node.id] : undefined)) ?? NO_MESSAGES;
  const deleteNode = useDesigner((s) => s.deleteNode);
  if (!node) {
    return (
      <aside className="panel properties" aria-label="Properties">
        <p className="muted">Select a node to edit it, or add one from the palette.</p>
      </aside>
    );
  }
  const others = Object.entries(issues).filter(([field]) => !shows(node.type, field));
  return (
    <aside className="panel properties" aria-label="Properties">
      <header className="panel__header">
        <h2 className="panel__title">
          {NODE_CONFIG[node.type].title} <span className="mono">{node.id}</span>
        </h2>
        <button type="button" className="btn btn--ghost btn--sm" onClick={() => deleteNode(node.id)}>
          Delete node
        </button>
      </header>
      {others.length > 0 && (
        <Notice>
          {others.map(([field, messages]) => (
            <p key={field}>{field ? `${field}: ${messages.join(' · ')}` : messages.join(' · ')}</p>
          ))}
        </Notice>
      )}
      <div className="form">
        {node.type === 'agent' && <AgentForm id={node.id} data={node.data} issues={issues} />}
        {node.type === 'task' && <TaskForm id={node.id} data={node.data} issues={issues} />}
        {node.type === 'approval' && <GateForm id={node.id} data={node.data} issues={issues} />}
        {node.type === 'condition' && <ConditionForm id={node.id} data={node.data} issues={issues} />}
        {node.type === 'router' && <RouterForm id={node.id} data={node.data} issues={issues} />}
        {node.type === 'map' && <MapForm id={node.id} data={node.data} issues={issues} />}
        {node.type === 'loop' && <LoopForm id={node.id} data={node.data} issues={issues} />}
        {node.type === 'workflow' && <WorkflowCallForm id={node.id} data={node.data} issues={issues} />}
      </div>
    </aside>
  );
}
