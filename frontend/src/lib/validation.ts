/**
 * Where validation errors belong. The server counts each error's `loc` from the
 * definition's root (`["steps", 2, "agent"]`); these functions turn that into the node
 * and field (or input, or the canvas) that the designer shows it on.
 */
import type { ValidationIssue } from '../api/types';
import type { Definition, StepSpec } from './definition';

/** Messages by field name; the field `''` is the thing as a whole. */
export type FieldMessages = Record<string, string[]>;

export interface IssueMap {
  /** By node id (agent or step id). */
  nodes: Record<string, FieldMessages>;
  /** By input index; index -1 is the inputs list as a whole. */
  inputs: Record<number, FieldMessages>;
  /** Errors of the definition as a whole (e.g. `["steps"]`: no steps at all). */
  root: string[];
}

export const NO_ISSUES: IssueMap = { nodes: {}, inputs: {}, root: [] };

/**
 * The field a path below an item names, and what the message says of the rest of the
 * path: `["retry", "backoff"]` → `retry.backoff`; a router's `["routes", 1, "if"]` →
 * `routes.1.if` and `["targets", "refund", 0]` → `targets.refund`; other list positions
 * are dropped (`["after", 1]` → `after`). Below a map's or loop's template steps
 * (`["steps", 0, "description"]`) and a sub-workflow's inputs (`["inputs", "topic"]`),
 * the field is `steps` or `inputs` and the message names the template step or input.
 */
function place(rest: (string | number)[], step: StepSpec | undefined): { field: string; prefix: string } {
  const [first, second, third] = rest;
  if (first === undefined || typeof first === 'number') return { field: '', prefix: '' };
  if (first === 'retry' && typeof second === 'string') return { field: `retry.${second}`, prefix: '' };
  if (first === 'routes' && typeof second === 'number') {
    return typeof third === 'string' ? { field: `routes.${second}.${third}`, prefix: '' } : { field: 'routes', prefix: `Route ${second + 1}: ` };
  }
  if (first === 'targets' && typeof second === 'string') return { field: `targets.${second}`, prefix: '' };
  if (first === 'steps' && typeof second === 'number' && step && (step.type === 'map' || step.type === 'loop')) {
    const template = step.steps[second]?.id ?? `step ${second + 1}`;
    return { field: 'steps', prefix: `${[template, ...rest.slice(2)].join('.')}: ` };
  }
  if (first === 'inputs' && second !== undefined) return { field: 'inputs', prefix: `${rest.slice(1).join('.')}: ` };
  return { field: first, prefix: '' };
}

/** A shorter wording for pydantic's most common messages. */
function humanize(msg: string, loc: (string | number)[]): string {
  if (msg === 'Field required' || msg === 'String should have at least 1 character') return 'Required';
  if (loc.length === 1 && loc[0] === 'steps' && msg.startsWith('List should have at least 1 item')) {
    return 'Add at least one task or approval gate';
  }
  if (msg.startsWith('String should match pattern')) {
    return loc[0] === 'inputs'
      ? 'Start with a letter or "_", then use letters, digits or "_"'
      : 'Use 1–64 letters, digits, "_" or "-"';
  }
  return msg;
}

function add(messages: FieldMessages, field: string, msg: string): void {
  (messages[field] ??= []).push(msg);
}

/**
 * Place each error on the node and field it concerns. `definition` must be the one
 * that was validated: its list positions are what the error paths count.
 */
export function mapIssues(issues: ValidationIssue[], definition: Definition): IssueMap {
  const map: IssueMap = { nodes: {}, inputs: {}, root: [] };
  for (const issue of issues) {
    const [section, index, ...rest] = issue.loc;
    const msg = humanize(issue.msg, issue.loc);
    const id =
      typeof index !== 'number'
        ? undefined
        : section === 'agents'
          ? definition.agents?.[index]?.id
          : section === 'steps'
            ? definition.steps[index]?.id
            : undefined;
    if (id !== undefined) {
      const step = section === 'steps' && typeof index === 'number' ? definition.steps[index] : undefined;
      const { field, prefix } = place(rest, step);
      add((map.nodes[id] ??= {}), field, prefix + msg);
    } else if (section === 'inputs') {
      const at = typeof index === 'number' ? index : -1;
      add((map.inputs[at] ??= {}), at === -1 ? '' : place(rest, undefined).field, msg);
    } else {
      map.root.push(issue.loc.length > 1 ? `${issue.loc.join('.')}: ${msg}` : msg);
    }
  }
  return map;
}

/** How many errors a node has. */
export function issueCount(messages: FieldMessages | undefined): number {
  return Object.values(messages ?? {}).reduce((total, list) => total + list.length, 0);
}

/**
 * A run's input errors (`loc` = `["inputs", name]`) by input name; any other error
 * goes under the key `''`.
 */
export function runInputIssues(issues: ValidationIssue[]): Record<string, string[]> {
  const byName: Record<string, string[]> = {};
  for (const { loc, msg } of issues) {
    const name = loc[0] === 'inputs' && typeof loc[1] === 'string' ? loc[1] : '';
    (byName[name] ??= []).push(name ? humanize(msg, loc) : `${loc.join('.') || 'run'}: ${msg}`);
  }
  return byName;
}
