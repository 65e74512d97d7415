import { useReactFlow } from '@xyflow/react';
import type { DragEvent } from 'react';
import { NODE_CONFIG, NODE_KINDS } from '../../nodes/registry';
import type { NodeKind } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';

/** The data type a palette item carries while dragged onto the canvas. */
export const DRAG_TYPE = 'application/x-kasal-node';

/** Node types to drag onto the canvas, or to click to add at a free spot. */
export function Palette() {
  const addNode = useDesigner((s) => s.addNode);
  const { fitView } = useReactFlow();
  const add = (kind: NodeKind) => {
    addNode(kind);
    void fitView({ maxZoom: 1, duration: 200 }); // runs once the new node is measured
  };
  const onDragStart = (event: DragEvent, kind: NodeKind) => {
    event.dataTransfer.setData(DRAG_TYPE, kind);
    event.dataTransfer.effectAllowed = 'move';
  };
  return (
    <section className="panel-section" aria-labelledby="palette-title">
      <h2 id="palette-title" className="section-title">
        Add nodes
      </h2>
      <div className="palette">
        {NODE_KINDS.map((kind) => (
          <button
            key={kind}
            type="button"
            className={`palette__item palette__item--${kind}`}
            draggable
            onDragStart={(event) => onDragStart(event, kind)}
            onClick={() => add(kind)}
            aria-label={NODE_CONFIG[kind].addLabel}
            title="Click to add, or drag onto the canvas"
          >
            <span className="node__icon" aria-hidden="true">
              {NODE_CONFIG[kind].icon}
            </span>
            {NODE_CONFIG[kind].title}
          </button>
        ))}
      </div>
    </section>
  );
}
