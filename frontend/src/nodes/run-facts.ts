/** What the run console says of a step beyond its status: its branch, its items, its iteration, its child run, its tokens and cost. */
import type { Step } from '../api/types';
import { RUN_STATUS_LABEL } from '../lib/status';
import { usageLine } from '../lib/usage-format';

/** One short line per fact, e.g. "Branch: refund", "7 / 10 items", "Iteration 3", "1.2K tokens · $0.0031". */
export function runFacts(step: Step): string[] {
  const facts: string[] = [];
  if (step.branch) facts.push(`Branch: ${step.branch}`);
  if (step.items_total !== null) facts.push(`${step.items_done} / ${step.items_total} items`);
  if (step.type === 'loop' && step.iteration > 0) facts.push(`Iteration ${step.iteration}`);
  if (step.child_status) facts.push(childStatusText(step));
  const usage = usageLine(step.usage);
  if (usage) facts.push(usage);
  return facts;
}

/** Why a step with child runs waits, e.g. "Waiting for approval in child run". */
export function childStatusText(step: Pick<Step, 'child_status'>): string {
  return step.child_status ? `${RUN_STATUS_LABEL[step.child_status]} in child run` : '';
}
