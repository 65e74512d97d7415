import type { NodeProps } from '@xyflow/react';
import { NodeShell } from './node-shell';
import type { MapNode } from './types';

export function MapNodeView({ id, data, selected }: NodeProps<MapNode>) {
  const summary = `each of ${data.items || '…'} · ${data.steps.length} template ${data.steps.length === 1 ? 'step' : 'steps'}`;
  return <NodeShell id={id} kind="map" selected={selected} summary={summary} targets={['in']} />;
}
