/**
 * Which waiting gates the signed-in user may decide: the inbox (GET /approvals) carries
 * each gate's approvers, and `mayDecide` applies the rule the workflow enforces.
 */
import { api } from '../../api/client';
import type { Approval, Role } from '../../api/types';
import { mayDecide } from '../../lib/permissions';

/** The gates of the first inbox page that `email`, with `role` here, may decide. */
export async function approvalsWaitingFor(email: string, role: Role): Promise<Approval[]> {
  const page = await api.listApprovals({ limit: 100 });
  return page.items.filter((item) => mayDecide(item.approvers ?? [], email, role));
}
