import type { NodeProps } from '@xyflow/react';
import { NodeShell } from './node-shell';
import type { WorkflowCallNode } from './types';

export function WorkflowCallNodeView({ id, data, selected }: NodeProps<WorkflowCallNode>) {
  const version = data.version === undefined || data.version === 'latest' ? 'latest' : `v${data.version}`;
  const summary = data.workflow ? `${data.workflow} · ${version}` : '';
  return <NodeShell id={id} kind="workflow" selected={selected} summary={summary} targets={['in']} />;
}
