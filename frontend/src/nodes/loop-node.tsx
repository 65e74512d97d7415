import type { NodeProps } from '@xyflow/react';
import { NodeShell } from './node-shell';
import type { LoopNode } from './types';

export function LoopNodeView({ id, data, selected }: NodeProps<LoopNode>) {
  const summary = `${data.steps.length} template ${data.steps.length === 1 ? 'step' : 'steps'} until ${data.until || '…'}`;
  return <NodeShell id={id} kind="loop" selected={selected} summary={summary} targets={['in']} />;
}
