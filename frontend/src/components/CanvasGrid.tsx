import { Background, useStore, type ReactFlowState } from '@xyflow/react';

/**
 * Below this zoom the dots are not drawn. <Background>'s dots shrink with the zoom (a
 * radius of zoom / 2 px): at the least zoom, 0.5, where a large workflow is fitted, they
 * are quarter-pixel specks, barely visible, yet their pattern moves on every pan, so each
 * auto-pan frame of a drag re-rasterised them across the whole canvas (software
 * rendering; P7, a fresh browser's first drag: frame p95 ~21 -> ~11 ms without them).
 */
const GRID_MIN_ZOOM = 0.6;

const showsGrid = (s: ReactFlowState) => s.transform[2] >= GRID_MIN_ZOOM;

/** A canvas's dotted grid (the designer's and the run graph's), 20 flow units apart, where it can be seen. */
export function CanvasGrid() {
  return useStore(showsGrid) ? <Background gap={20} /> : null;
}
