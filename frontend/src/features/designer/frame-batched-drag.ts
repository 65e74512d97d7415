import type { Node, NodeChange, NodePositionChange, OnNodesChange } from '@xyflow/react';
import { useCallback, useEffect, useRef } from 'react';

const isDragMove = <N extends Node>(change: NodeChange<N>): change is NodePositionChange =>
  change.type === 'position' && change.dragging === true;

/**
 * `apply`, with the moves of a node being dragged applied once a frame. React Flow reports
 * a drag on every pointer move and, while the node is near the canvas's edge, again from
 * its auto-pan loop in the same frame: each a new nodes array, so a render of the canvas
 * and a pass of every node's and edge's store selectors (~2,000 on a 300-node canvas).
 * Held moves are applied in an animation frame callback requested after auto-pan's, so
 * before the frame renders; any other change (the drop, a selection, a measurement)
 * applies the held moves first and then itself, at once.
 */
export function useFrameBatchedDrag<N extends Node>(apply: OnNodesChange<N>): OnNodesChange<N> {
  const held = useRef(new Map<string, NodeChange<N>>());
  const frame = useRef(0);

  const flush = useCallback(() => {
    cancelAnimationFrame(frame.current);
    frame.current = 0;
    if (held.current.size === 0) return;
    const changes = [...held.current.values()];
    held.current.clear();
    apply(changes);
  }, [apply]);

  // Each frame that applied moves asks for the next, so this callback keeps its place
  // after auto-pan's (both re-request in turn); a move arriving from inside auto-pan's
  // callback would otherwise wait for the next frame.
  const onFrame = useCallback(() => {
    const moved = held.current.size > 0;
    flush();
    if (moved) frame.current = requestAnimationFrame(onFrame);
  }, [flush]);

  useEffect(() => flush, [flush]);

  return useCallback(
    (changes) => {
      if (changes.length > 0 && changes.every(isDragMove)) {
        for (const change of changes) held.current.set(change.id, change);
        if (!frame.current) frame.current = requestAnimationFrame(onFrame);
        return;
      }
      flush();
      apply(changes);
    },
    [apply, flush, onFrame],
  );
}
