/**
 * A map's or loop's template steps as a list: adding, renaming and removing one keeps the
 * others' links to it (`after`, a condition's `then` and `else`, a router's `targets`).
 * Expressions that name a step (`output("fetch")`) are text and stay as typed.
 */
import type { TemplateStep } from './definition';

export type NewTemplateStepKind = 'task' | 'approval';

/** A step of `kind` with the first free id (`task_1`, `gate_2`…), after the last step if any. */
export function newTemplateStep(kind: NewTemplateStepKind, steps: readonly TemplateStep[]): TemplateStep {
  const prefix = kind === 'task' ? 'task' : 'gate';
  const taken = new Set(steps.map((step) => step.id));
  let n = 1;
  while (taken.has(`${prefix}_${n}`)) n += 1;
  const id = `${prefix}_${n}`;
  const last = steps.at(-1);
  const after = last ? [last.id] : [];
  return kind === 'task'
    ? { id, type: 'task', description: '', expected_output: '', after }
    : { id, type: 'approval', message: '', after };
}

const swap = (ids: string[] | undefined, from: string, to: string | null): string[] | undefined =>
  ids?.flatMap((id) => (id !== from ? [id] : to === null ? [] : [to]));

/** Every link to `from` made to `to`, or dropped when `to` is null. */
function relink(step: TemplateStep, from: string, to: string | null): TemplateStep {
  const linked = { ...step, ...(step.after && { after: swap(step.after, from, to) }) };
  if (linked.type === 'condition') {
    return { ...linked, ...(linked.then && { then: swap(linked.then, from, to) }), ...(linked.else && { else: swap(linked.else, from, to) }) };
  }
  if (linked.type === 'router') {
    const targets = Object.fromEntries(Object.entries(linked.targets).map(([name, ids]) => [name, swap(ids, from, to) ?? []]));
    return { ...linked, targets };
  }
  return linked;
}

/** `steps` with `from` called `to`; null when `to` is empty or another step's id. */
export function renameTemplateStep(steps: readonly TemplateStep[], from: string, to: string): TemplateStep[] | null {
  if (!to || (to !== from && steps.some((step) => step.id === to))) return null;
  return steps.map((step) => relink(step.id === from ? { ...step, id: to } : step, from, to));
}

/** `steps` without `id`, and without the links to it. */
export function removeTemplateStep(steps: readonly TemplateStep[], id: string): TemplateStep[] {
  return steps.filter((step) => step.id !== id).map((step) => relink(step, id, null));
}

/** `steps` with `stepId` waiting for `dependencyId`, or no longer. */
export function toggleTemplateDependency(steps: readonly TemplateStep[], stepId: string, dependencyId: string): TemplateStep[] {
  return steps.map((step) => {
    if (step.id !== stepId) return step;
    const after = step.after ?? [];
    return { ...step, after: after.includes(dependencyId) ? after.filter((id) => id !== dependencyId) : [...after, dependencyId] };
  });
}
