/**
 * Node placement. Agents sit in a column on the left; steps sit right of them in
 * rows by dependency depth, so a plan reads top to bottom.
 */
import type { NodeKind } from '../nodes/types';
import type { Definition } from './definition';

export interface XY {
  x: number;
  y: number;
}

/** The size every node is placed with (the shell's CSS width and a typical height). */
export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 96;
const GAP_X = 60;
const GAP_Y = 64;
/** Where the step columns start, right of the agent column. */
const STEP_LEFT = NODE_WIDTH + 120;

/**
 * The row of each step: the length of the longest chain of `after` links that
 * leads to it. Unknown ids and cycles are tolerated (a cycle is cut where it closes).
 */
function stepDepths(steps: Definition['steps']): Record<string, number> {
  const after = new Map(steps.map((step) => [step.id, step.after ?? []]));
  const depths: Record<string, number> = {};
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depths[id];
    if (known !== undefined) return known;
    if (visiting.has(id) || !after.has(id)) return -1;
    visiting.add(id);
    const depth = 1 + Math.max(-1, ...(after.get(id) ?? []).map(depthOf));
    visiting.delete(id);
    depths[id] = depth;
    return depth;
  };
  steps.forEach((step) => depthOf(step.id));
  return depths;
}

/** True when a node placed at `at` would overlap one at any of `taken`. */
function overlaps(at: XY, taken: XY[]): boolean {
  return taken.some(
    (p) => Math.abs(p.x - at.x) < NODE_WIDTH + GAP_X / 2 && Math.abs(p.y - at.y) < NODE_HEIGHT + GAP_Y / 2,
  );
}

/** The first free slot, scanning down the column at `x` from `y`. */
function freeSlotInColumn(taken: XY[], x: number, y = 0): XY {
  let at = { x, y };
  while (overlaps(at, taken)) at = { x, y: at.y + NODE_HEIGHT + GAP_Y };
  return at;
}

/** `at`, or the first free slot below it when a node already sits there. */
export function clearSpotFrom(taken: XY[], at: XY): XY {
  return freeSlotInColumn(taken, at.x, at.y);
}

/** A free position for a new node: agents go in the agent column, steps in the first step column. */
export function freePosition(taken: XY[], kind: NodeKind): XY {
  return freeSlotInColumn(taken, kind === 'agent' ? 0 : STEP_LEFT);
}

/**
 * Positions for every agent and step of a definition. Steps are placed in rows by
 * depth, so the plan reads top to bottom; each agent is placed in the column on the
 * left, level with its first task, or at the next free slot of that column.
 */
export function autoLayout(definition: Definition): Record<string, XY> {
  const positions: Record<string, XY> = {};
  const depths = stepDepths(definition.steps);
  const columns: number[] = [];
  for (const step of definition.steps) {
    const row = depths[step.id] ?? 0;
    const column = columns[row] ?? 0;
    columns[row] = column + 1;
    positions[step.id] = { x: STEP_LEFT + column * (NODE_WIDTH + GAP_X), y: row * (NODE_HEIGHT + GAP_Y) };
  }
  const agentColumn: XY[] = [];
  for (const agent of definition.agents ?? []) {
    const firstTask = definition.steps.find((step) => step.type === 'task' && step.agent === agent.id);
    const at = freeSlotInColumn(agentColumn, 0, firstTask ? (positions[firstTask.id]?.y ?? 0) : 0);
    agentColumn.push(at);
    positions[agent.id] = at;
  }
  return positions;
}
