/** Text labels and colour tones for step and run statuses: colour is never the only signal. */
import type { RunStatus, StepStatus } from '../api/types';

export const STEP_STATUS_LABEL: Record<StepStatus, string> = {
  pending: 'Pending',
  running: 'Running',
  waiting: 'Waiting',
  paused: 'Paused',
  completed: 'Completed',
  approved: 'Approved',
  rejected: 'Rejected',
  skipped: 'Skipped',
  not_taken: 'Not taken',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const RUN_STATUS_LABEL: Record<RunStatus, string> = {
  running: 'Running',
  waiting_for_approval: 'Waiting for approval',
  needs_attention: 'Needs attention',
  completed: 'Completed',
  rejected: 'Rejected',
  failed: 'Failed',
  cancelled: 'Cancelled',
  terminated: 'Terminated',
  timed_out: 'Timed out',
};

/** The step-status colour token (`--status-<tone>`) a run status is drawn with. */
export const RUN_STATUS_TONE: Record<RunStatus, StepStatus> = {
  running: 'running',
  waiting_for_approval: 'waiting',
  needs_attention: 'paused',
  completed: 'completed',
  rejected: 'rejected',
  failed: 'failed',
  cancelled: 'cancelled',
  terminated: 'cancelled',
  timed_out: 'failed',
};

const OPEN: ReadonlySet<RunStatus> = new Set<RunStatus>([
  'running',
  'waiting_for_approval',
  'needs_attention',
]);

/** True once a run can change no more: every status but the three of an open run. */
export function isRunClosed(status: RunStatus): boolean {
  return !OPEN.has(status);
}
