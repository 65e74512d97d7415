/**
 * What the run console derives from a run's steps: which branch edges were taken, which
 * map or loop a child run carries out, and a map's items grouped by template step.
 */
import type { Step, StepStatus, TokenUsage } from '../api/types';
import type { AppEdge } from '../nodes/types';
import type { Definition } from './definition';
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

/**
 * A map's item copy of a template step is `<template id>-<index>`
 * (workflows/engine/child_steps.py, `item_step_id`).
 */
const ITEM_ID = /^(.+)-(\d+)$/;

/** The map or loop a child run carries out, and its template steps as a definition of their own. */
export interface RunTemplate {
  kind: 'map' | 'loop';
  stepId: string;
  definition: Definition;
}

/**
 * The map or loop whose template a run's steps copy, or null for a run of the
 * definition itself. A map's chunk of items and a loop's iteration run as child runs of
 * the parent's workflow version, so their steps are found in a template, not at the top:
 * a loop's under the template's ids, a map's as `<template id>-<index>`.
 */
export function findTemplate(definition: Definition, stepIds: string[]): RunTemplate | null {
  const top = new Set(definition.steps.map((step) => step.id));
  if (stepIds.length === 0 || stepIds.every((id) => top.has(id))) return null;
  for (const step of definition.steps) {
    if (step.type !== 'map' && step.type !== 'loop') continue;
    const ids = new Set(step.steps.map((template) => template.id));
    const fits =
      step.type === 'loop'
        ? stepIds.every((id) => ids.has(id))
        : stepIds.every((id) => ids.has(ITEM_ID.exec(id)?.[1] ?? ''));
    if (fits) return { kind: step.type, stepId: step.id, definition: { agents: definition.agents ?? [], steps: step.steps } };
  }
  return null;
}

/** One template step of a map, with its copies in this run (one per item) and how many are done. */
export interface ItemGroup {
  templateId: string;
  items: Step[];
  done: number;
  /** The status the group is drawn with: the most pressing of its items'. */
  status: StepStatus;
}

/** Most pressing first: what needs someone, then what is under way, then how items ended. */
const PRESSING: StepStatus[] = ['paused', 'waiting', 'running', 'pending', 'failed', 'rejected', 'cancelled', 'completed', 'approved', 'skipped', 'not_taken'];
const DONE: ReadonlySet<StepStatus> = new Set<StepStatus>(['completed', 'approved', 'skipped', 'not_taken', 'failed', 'rejected', 'cancelled']);

/** A map run's item steps grouped by their template step, in template order, items in index order; never empty. */
export function groupItems(steps: Step[], templateIds: string[]): ItemGroup[] {
  const index = (step: Step) => Number(ITEM_ID.exec(step.id)?.[2] ?? 0);
  const groups = templateIds.map((templateId) => {
    const items = steps.filter((step) => ITEM_ID.exec(step.id)?.[1] === templateId).sort((a, b) => index(a) - index(b));
    const present = new Set(items.map((step) => step.status));
    return {
      templateId,
      items,
      done: items.filter((step) => DONE.has(step.status)).length,
      status: PRESSING.find((status) => present.has(status)) ?? 'pending',
    };
  });
  return groups.filter((group) => group.items.length > 0);
}

/** A group as one step on the template's graph: its status and its items done out of all. */
export function groupAsStep(group: ItemGroup): Step {
  const usage = sumUsage(group.items.map((item) => item.usage));
  return {
    ...group.items[0]!,
    id: group.templateId,
    usage,
    cost_micros: usage.cost_micros,
    cost_usd: usage.cost_micros / 1_000_000,
    status: group.status,
    items_total: group.items.length,
    items_done: group.done,
    branch: null,
    child_run_ids: [],
    child_status: null,
  };
}

/** What several steps' LLM calls used and cost together: a template step stands for all its items. */
export function sumUsage(usages: (TokenUsage | null | undefined)[]): TokenUsage {
  const total: TokenUsage = { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, total_tokens: 0, llm_calls: 0, cost_micros: 0 };
  for (const usage of usages) {
    if (!usage) continue;
    for (const key of Object.keys(total) as (keyof TokenUsage)[]) total[key] += usage[key];
  }
  return total;
}
