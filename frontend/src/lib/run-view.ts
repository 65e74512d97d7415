/**
 * What the run console derives from a run's steps: which branch edges were taken, and
 * which steps belong under a map or loop (its items and iterations).
 */
import type { Step } from '../api/types';
import type { AppEdge } from '../nodes/types';
import { edgeBranch } from './graph';

type StepFacts = Pick<Step, 'branch' | 'status'>;

/**
 * The graph's edges marked for the run: an edge from a condition or router that has
 * chosen is `edge--taken` when it leaves by the chosen branch and `edge--not-taken`
 * otherwise, as is any edge into a step that was not taken. Others stay as they were.
 */
export function markTakenEdges(edges: AppEdge[], steps: Record<string, StepFacts>): AppEdge[] {
  return edges.map((edge) => {
    const branch = edgeBranch(edge);
    const chosen = steps[edge.source]?.branch;
    const intoNotTaken = steps[edge.target]?.status === 'not_taken';
    const state = branch !== undefined && chosen ? branch === chosen : intoNotTaken ? false : null;
    if (state === null) return edge;
    return {
      ...edge,
      className: `${edge.className ?? ''} ${state ? 'edge--taken' : 'edge--not-taken'}`.trim(),
      ariaLabel: `${edge.ariaLabel ?? `${edge.target} runs after ${edge.source}`} (${state ? 'taken' : 'not taken'})`,
    };
  });
}

export interface StepGroup<S extends Pick<Step, 'id' | 'type'> = Step> {
  step: S;
  /** Steps of the run that belong to this map or loop (ids such as `fanout[3].fetch`). */
  members: S[];
}

/**
 * The run's steps with those of a map's items or a loop's iterations under it: a step
 * that is not itself a top-level step and whose id starts with a map's or loop's id and
 * then a character no id may hold (`[`, `.`, `/`, `:`).
 */
export function groupSteps<S extends Pick<Step, 'id' | 'type'>>(steps: S[]): StepGroup<S>[] {
  const containers = steps.filter((step) => step.type === 'map' || step.type === 'loop').map((step) => step.id);
  const owner = (step: S): string | undefined =>
    containers.find((id) => step.id !== id && step.id.startsWith(id) && /[^A-Za-z0-9_-]/.test(step.id.charAt(id.length)));
  const groups = new Map<string, StepGroup<S>>();
  const order: StepGroup<S>[] = [];
  for (const step of steps) {
    if (owner(step) === undefined) {
      const group: StepGroup<S> = { step, members: [] };
      groups.set(step.id, group);
      order.push(group);
    }
  }
  for (const step of steps) {
    const id = owner(step);
    if (id !== undefined) groups.get(id)?.members.push(step);
  }
  return order;
}
