/**
 * Which waiting gates the signed-in user may decide. The inbox (GET /approvals) does not
 * say who a gate's approvers are, so they come from each gate's run (GET /runs/{id}),
 * once per gate: a gate's approvers never change while it waits.
 */
import { api } from '../../api/client';
import type { Approval, Role } from '../../api/types';
import { mayDecide } from '../../lib/permissions';

/** The most runs read per refresh, so that a long inbox costs a bounded number of requests. */
const MAX_RUNS_READ = 20;

const gateKey = (runId: string, stepId: string) => `${runId}/${stepId}`;

/** The approvers of each gate seen so far, by `run/step`. */
const approversOf = new Map<string, readonly string[]>();

/** Learn the approvers of the gates of `items` not seen yet, a run at a time. */
async function learnApprovers(items: Approval[]): Promise<void> {
  const runs = [...new Set(items.filter((item) => !approversOf.has(gateKey(item.run_id, item.step_id))).map((item) => item.run_id))];
  await Promise.all(
    runs.slice(0, MAX_RUNS_READ).map(async (runId) => {
      try {
        const run = await api.getRun(runId);
        for (const step of run.steps) approversOf.set(gateKey(runId, step.id), step.approvers ?? []);
      } catch {
        // A run that cannot be read now is tried again on the next refresh.
      }
    }),
  );
}

/** The gates of the first inbox page that `email`, with `role` here, may decide. */
export async function approvalsWaitingFor(email: string, role: Role): Promise<Approval[]> {
  const page = await api.listApprovals({ limit: 100 });
  await learnApprovers(page.items);
  return page.items.filter((item) => {
    const approvers = approversOf.get(gateKey(item.run_id, item.step_id));
    return approvers !== undefined && mayDecide(approvers, email, role);
  });
}
