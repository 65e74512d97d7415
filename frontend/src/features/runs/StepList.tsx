/**
 * The run's steps as a list beside the graph; a map's items grouped under their template
 * step with a count, open when one of them needs someone.
 */
import type { Step } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import type { ItemGroup } from '../../lib/run-view';

interface Props {
  steps: Step[];
  /** A map's child run: its items grouped by template step (null for any other run). */
  groups: ItemGroup[] | null;
  onSelect: (stepId: string) => void;
}

function StepItem({ step, onSelect }: { step: Step; onSelect: (id: string) => void }) {
  return (
    <li>
      <button type="button" className="step-list__button mono" onClick={() => onSelect(step.id)}>
        {step.id}
      </button>
      <StatusBadge step={step.status} />
    </li>
  );
}

export function StepList({ steps, groups, onSelect }: Props) {
  if (!groups) {
    return (
      <ul className="step-list">
        {steps.map((step) => (
          <StepItem key={step.id} step={step} onSelect={onSelect} />
        ))}
      </ul>
    );
  }
  return (
    <ul className="step-list">
      {groups.map((group) => (
        <li key={group.templateId}>
          <details className="step-list__group" open={group.status === 'paused' || group.status === 'waiting'}>
            <summary>
              <span className="mono">{group.templateId}</span> · {group.done} of {group.items.length} items done{' '}
              <StatusBadge step={group.status} />
            </summary>
            <ul className="step-list" aria-label={`Items of ${group.templateId}`}>
              {group.items.map((step) => (
                <StepItem key={step.id} step={step} onSelect={onSelect} />
              ))}
            </ul>
          </details>
        </li>
      ))}
    </ul>
  );
}
