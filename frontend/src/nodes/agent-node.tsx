import type { NodeProps } from '@xyflow/react';
import { NodeShell } from './node-shell';
import type { AgentNode } from './types';

export function AgentNodeView({ id, data, selected }: NodeProps<AgentNode>) {
  return <NodeShell id={id} kind="agent" selected={selected} summary={data.role} targets={[]} />;
}
