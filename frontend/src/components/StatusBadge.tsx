import type { RunStatus, StepStatus } from '../api/types';
import { RUN_STATUS_LABEL, RUN_STATUS_TONE, STEP_STATUS_LABEL } from '../lib/status';

type Props = { step: StepStatus; run?: never } | { run: RunStatus; step?: never };

/** A coloured dot plus the status in words. */
export function StatusBadge(props: Props) {
  const tone = props.run ? RUN_STATUS_TONE[props.run] : props.step;
  const label = props.run ? RUN_STATUS_LABEL[props.run] : STEP_STATUS_LABEL[props.step];
  return (
    <span className={`badge tone-${tone}`}>
      <span className="badge__dot" aria-hidden="true" />
      {label}
    </span>
  );
}
