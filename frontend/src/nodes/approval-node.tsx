import type { NodeProps } from '@xyflow/react';
import { NodeShell } from './node-shell';
import type { ApprovalNode } from './types';

export function ApprovalNodeView({ id, data, selected }: NodeProps<ApprovalNode>) {
  return <NodeShell id={id} kind="approval" selected={selected} summary={data.message} targets={['in']} />;
}
