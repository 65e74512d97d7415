import { useEdges, type NodeProps } from '@xyflow/react';
import { routerHandles } from '../lib/graph';
import { NodeShell } from './node-shell';
import type { RouterNode } from './types';

export function RouterNodeView({ id, data, selected }: NodeProps<RouterNode>) {
  const edges = useEdges();
  const branches = routerHandles(data, edges, id);
  const summary = `${data.routes.length} ${data.routes.length === 1 ? 'route' : 'routes'}, default ${data.default || '—'}`;
  return <NodeShell id={id} kind="router" selected={selected} summary={summary} targets={['in']} branches={branches} />;
}
