/** Per-type presentation of nodes; the registry re-exports it with the node components. */
import type { NodeKind } from './types';

export interface NodeConfig {
  title: string;
  icon: string;
  /** The palette button's accessible name. */
  addLabel: string;
  /** New nodes get ids `<prefix>_<n>`. */
  idPrefix: string;
}

export const NODE_KINDS: NodeKind[] = ['agent', 'task', 'approval', 'condition', 'router', 'map', 'loop', 'workflow'];

export const NODE_CONFIG: Record<NodeKind, NodeConfig> = {
  agent: { title: 'Agent', icon: '◆', addLabel: 'Add agent', idPrefix: 'agent' },
  task: { title: 'Task', icon: '▶', addLabel: 'Add task', idPrefix: 'task' },
  approval: { title: 'Approval gate', icon: '✓', addLabel: 'Add approval gate', idPrefix: 'gate' },
  condition: { title: 'Condition', icon: '◇', addLabel: 'Add condition', idPrefix: 'condition' },
  router: { title: 'Router', icon: '⇉', addLabel: 'Add router', idPrefix: 'router' },
  map: { title: 'Map', icon: '☰', addLabel: 'Add map', idPrefix: 'map' },
  loop: { title: 'Loop', icon: '↻', addLabel: 'Add loop', idPrefix: 'loop' },
  workflow: { title: 'Sub-workflow', icon: '↳', addLabel: 'Add sub-workflow', idPrefix: 'call' },
};
