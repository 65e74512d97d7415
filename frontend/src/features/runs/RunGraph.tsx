import { Controls, ReactFlow, type NodeMouseHandler } from '@xyflow/react';
import { useMemo } from 'react';
import type { Step, StepStatus } from '../../api/types';
import { CanvasGrid } from '../../components/CanvasGrid';
import type { Graph } from '../../lib/graph';
import { markTakenEdges } from '../../lib/run-view';
import { CanvasContext } from '../../nodes/canvas-context';
import { nodeTypes } from '../../nodes/registry';
import type { AppNode } from '../../nodes/types';

// A constant: a new object on each render (each status the run reports) would be a
// change of options for React Flow to take in.
const FIT_VIEW_OPTIONS = { maxZoom: 1 };

interface Props {
  graph: Graph;
  steps: Step[];
  selectedId: string | null;
  onSelect: (stepId: string) => void;
}

/**
 * The run's graph, read-only, each step coloured and labelled by its live status, and
 * the branches conditions and routers chose drawn taken, the others dimmed.
 */
export function RunGraph({ graph, steps, selectedId, onSelect }: Props) {
  const statuses = useMemo(
    () => Object.fromEntries(steps.map((step) => [step.id, step.status])) as Record<string, StepStatus>,
    [steps],
  );
  const byId = useMemo(() => Object.fromEntries(steps.map((step) => [step.id, step])), [steps]);
  const edges = useMemo(() => markTakenEdges(graph.edges, byId), [graph.edges, byId]);
  const info = useMemo(() => ({ statuses, steps: byId, selectedId }), [statuses, byId, selectedId]);
  const onNodeClick: NodeMouseHandler<AppNode> = (_, node) => {
    if (statuses[node.id]) onSelect(node.id);
  };
  return (
    <CanvasContext.Provider value={info}>
      <div className="canvas">
        <ReactFlow
          aria-label="Run graph"
          nodes={graph.nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodeClick={onNodeClick}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          fitView
          fitViewOptions={FIT_VIEW_OPTIONS}
        >
          <CanvasGrid />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
    </CanvasContext.Provider>
  );
}
