import { Controls, Panel, ReactFlow, useReactFlow, useStore, type IsValidConnection } from '@xyflow/react';
import { useCallback, useMemo, type DragEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { connectionKind } from '../../lib/graph';
import { NODE_HEIGHT, NODE_WIDTH } from '../../lib/layout';
import { issueCount } from '../../lib/validation';
import { CanvasContext } from '../../nodes/canvas-context';
import { NODE_KINDS, nodeTypes } from '../../nodes/registry';
import type { NodeKind } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { CanvasGrid } from '../../components/CanvasGrid';
import { useFrameBatchedDrag } from './frame-batched-drag';
import { DRAG_TYPE } from './Palette';

const isNodeKind = (value: string): value is NodeKind => (NODE_KINDS as string[]).includes(value);

const isValidConnection: IsValidConnection = (connection) =>
  connectionKind(useDesigner.getState().nodes, connection) !== null;

// Module constants, not inline literals: React Flow copies a changed prop into its store,
// and a new object each render meant a second store update (every node's, edge's and
// handle's selector run again) on each pointer move of a drag.
const FIT_VIEW_OPTIONS = { maxZoom: 1 };
const DELETE_KEYS = ['Backspace', 'Delete'];

/** The editable canvas: drop palette items, drag nodes, connect handles. */
export function DesignerCanvas() {
  const {
    nodes,
    edges,
    onNodesChange: applyNodeChanges,
    onEdgesChange,
    onConnect,
    addNode,
    deleteNode,
  } = useDesigner(
    useShallow((s) => ({
      nodes: s.nodes,
      edges: s.edges,
      onNodesChange: s.onNodesChange,
      onEdgesChange: s.onEdgesChange,
      onConnect: s.onConnect,
      addNode: s.addNode,
      deleteNode: s.deleteNode,
    })),
  );
  const issues = useDesigner(
    useShallow((s) =>
      Object.fromEntries(Object.entries(s.issues.nodes).map(([id, messages]) => [id, issueCount(messages)])),
    ),
  );
  const rootIssues = useDesigner((s) => s.issues.root);
  const onNodesChange = useFrameBatchedDrag(applyNodeChanges);
  const { screenToFlowPosition } = useReactFlow();
  // Which handle type a connection being drawn started from: the handles of that type
  // cannot end it, so the stylesheet stops them taking the pointer (StepHandle has no
  // store subscription of its own to know).
  const connectingFrom = useStore((s) => s.connection.fromHandle?.type);
  const canvasInfo = useMemo(() => ({ issues, onDelete: deleteNode }), [issues, deleteNode]);

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const kind = event.dataTransfer.getData(DRAG_TYPE);
      if (!isNodeKind(kind)) return;
      event.preventDefault();
      const at = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(kind, { x: at.x - NODE_WIDTH / 2, y: at.y - NODE_HEIGHT / 2 });
    },
    [addNode, screenToFlowPosition],
  );

  return (
    <CanvasContext.Provider value={canvasInfo}>
      <div className="canvas" data-connecting-from={connectingFrom} onDragOver={onDragOver} onDrop={onDrop}>
        <ReactFlow
          aria-label="Workflow canvas"
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          isValidConnection={isValidConnection}
          deleteKeyCode={DELETE_KEYS}
          fitView
          fitViewOptions={FIT_VIEW_OPTIONS}
          // Off-screen nodes and edges are not drawn: while a drag auto-pans a large
          // canvas, every frame otherwise lays out and paints all of them (P7).
          onlyRenderVisibleElements
        >
          <CanvasGrid />
          <Controls showInteractive={false} />
          {nodes.length === 0 && (
            <Panel position="top-center" className="canvas__hint">
              Drag an agent, a task or an approval gate here from the palette — or click one to add it.
            </Panel>
          )}
          {rootIssues.length > 0 && (
            <Panel position="bottom-center" className="canvas__problems">
              <ul aria-label="Workflow problems">
                {rootIssues.map((message) => (
                  <li key={message}>{message}</li>
                ))}
              </ul>
            </Panel>
          )}
        </ReactFlow>
      </div>
    </CanvasContext.Provider>
  );
}
