import type { NodeProps } from '@xyflow/react';
import { NodeShell } from './node-shell';
import type { ConditionNode } from './types';

export function ConditionNodeView({ id, data, selected }: NodeProps<ConditionNode>) {
  return (
    <NodeShell id={id} kind="condition" selected={selected} summary={`if ${data.if}`} targets={['in']} branches={['then', 'else']} />
  );
}
