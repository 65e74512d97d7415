import type { NodeProps } from '@xyflow/react';
import { NodeShell } from './node-shell';
import type { TaskNode } from './types';

export function TaskNodeView({ id, data, selected }: NodeProps<TaskNode>) {
  return <NodeShell id={id} kind="task" selected={selected} summary={data.description} targets={['agent', 'in']} />;
}
