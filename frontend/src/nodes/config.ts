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

export const NODE_KINDS: NodeKind[] = ['agent', 'task', 'approval'];

export const NODE_CONFIG: Record<NodeKind, NodeConfig> = {
  agent: { title: 'Agent', icon: '◆', addLabel: 'Add agent', idPrefix: 'agent' },
  task: { title: 'Task', icon: '▶', addLabel: 'Add task', idPrefix: 'task' },
  approval: { title: 'Approval gate', icon: '✓', addLabel: 'Add approval gate', idPrefix: 'gate' },
};
