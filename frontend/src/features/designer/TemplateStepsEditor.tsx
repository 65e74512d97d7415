/**
 * A map's or loop's template steps: its tasks and approval gates edited field by field,
 * and the whole list as JSON, for conditions, routers and the fields not shown here
 * (retries, timeouts, output schemas, approvers).
 */
import { useShallow } from 'zustand/react/shallow';
import type { ApprovalStep, TaskStep, TemplateStep } from '../../lib/definition';
import {
  newTemplateStep,
  removeTemplateStep,
  renameTemplateStep,
  toggleTemplateDependency,
  type NewTemplateStepKind,
} from '../../lib/template-steps';
import { useDesigner } from '../../stores/designer-store';
import { Checklist, IdField, SelectField, TextField } from './fields';
import { isStepList, JsonField } from './step-fields';

interface Props {
  /** The map or loop being edited. */
  scope: string;
  value: TemplateStep[];
  onChange: (steps: TemplateStep[]) => void;
  /** Validation messages, each prefixed with the template step it is about (`fetch.agent: …`). */
  errors?: string[];
  hint: string;
}

const ADD: { kind: NewTemplateStepKind; label: string }[] = [
  { kind: 'task', label: 'Add template task' },
  { kind: 'approval', label: 'Add template gate' },
];

export function TemplateStepsEditor({ scope, value, onChange, errors = [], hint }: Props) {
  const agentIds = useDesigner(
    useShallow((s) => s.nodes.filter((node) => node.type === 'agent').map((node) => node.id)),
  );
  return (
    <fieldset className="fieldset template-steps">
      <legend>Template steps</legend>
      <p className="field__hint">{hint}</p>
      {value.map((step, index) => (
        // By position: a key by id would remount the step, and drop the focus, as its id is typed.
        <TemplateStepFields
          key={index}
          step={step}
          steps={value}
          agentIds={agentIds}
          issues={stepIssues(errors, step.id)}
          onChange={onChange}
        />
      ))}
      <div className="template-steps__add">
        {ADD.map(({ kind, label }) => (
          <button key={kind} type="button" className="btn btn--secondary btn--sm" onClick={() => onChange([...value, newTemplateStep(kind, value)])}>
            {label}
          </button>
        ))}
      </div>
      <details className="template-steps__json">
        <summary>Edit as JSON</summary>
        <JsonField<TemplateStep[]>
          label="Template steps (JSON)"
          value={value}
          onChange={(steps) => onChange(steps ?? [])}
          check={isStepList}
          scope={scope}
          errors={errors}
          rows={10}
        />
      </details>
    </fieldset>
  );
}

interface StepProps {
  step: TemplateStep;
  /** All the template steps, which a change to this one returns. */
  steps: TemplateStep[];
  agentIds: string[];
  issues: StepIssues;
  onChange: (steps: TemplateStep[]) => void;
}

function TemplateStepFields({ step, steps, agentIds, issues, onChange }: StepProps) {
  const replace = (next: TemplateStep) => onChange(steps.map((other) => (other.id === step.id ? next : other)));
  return (
    <fieldset className="fieldset template-step">
      <legend className="mono">
        {step.id} ({step.type})
      </legend>
      <IdField
        label="Step id"
        holder="template step"
        value={step.id}
        onRename={(next) => {
          const renamed = renameTemplateStep(steps, step.id, next);
          if (renamed) onChange(renamed);
          return renamed !== null;
        }}
        errors={issues.other}
      />
      {step.type === 'task' && <TaskFields step={step} agentIds={agentIds} onChange={replace} issues={issues} />}
      {step.type === 'approval' && (
        <TextField
          label="Message"
          value={step.message}
          onChange={(message) => replace({ ...step, message } satisfies ApprovalStep)}
          errors={issues.message}
          multiline
        />
      )}
      {(step.type === 'condition' || step.type === 'router') && (
        <p className="field__hint">Edit this {step.type} in the JSON below.</p>
      )}
      <Checklist
        legend="Waits for"
        options={steps.filter((other) => other.id !== step.id).map((other) => other.id)}
        checked={step.after ?? []}
        onToggle={(dependency) => onChange(toggleTemplateDependency(steps, step.id, dependency))}
        empty="No other template step yet."
        errors={issues.after}
      />
      <button type="button" className="btn btn--ghost btn--sm" onClick={() => onChange(removeTemplateStep(steps, step.id))}>
        Remove {step.id}
      </button>
    </fieldset>
  );
}

function TaskFields({ step, agentIds, onChange, issues }: {
  step: TaskStep;
  agentIds: string[];
  onChange: (step: TaskStep) => void;
  issues: StepIssues;
}) {
  const chosen = step.agent ?? '';
  // An agent the step names that the canvas no longer has stays listed, so it shows.
  const options = chosen && !agentIds.includes(chosen) ? [...agentIds, chosen] : agentIds;
  return (
    <>
      <SelectField
        label="Agent"
        value={chosen}
        options={[{ value: '', label: agentIds.length ? 'Choose an agent…' : 'Add an agent first' }, ...options]}
        onChange={(agent) => {
          const { agent: _dropped, ...rest } = step;
          onChange(agent ? { ...rest, agent } : rest);
        }}
        errors={issues.agent}
      />
      <TextField
        label="Description"
        value={step.description}
        onChange={(description) => onChange({ ...step, description })}
        errors={issues.description}
        hint="Use {item} and {index} for the item being run."
        multiline
      />
      <TextField
        label="Expected output"
        value={step.expected_output}
        onChange={(expected_output) => onChange({ ...step, expected_output })}
        errors={issues.expected_output}
        multiline
      />
    </>
  );
}

const SHOWN_FIELDS = ['agent', 'description', 'expected_output', 'message', 'after'] as const;
type StepIssues = Partial<Record<(typeof SHOWN_FIELDS)[number] | 'other', string[]>>;

/** The messages about template step `id` (`fetch.agent: …`), by the field that shows
 * them; the rest (`fetch: …`, `fetch.retry.max_attempts: …`) go with its id. */
function stepIssues(errors: readonly string[], id: string): StepIssues {
  const issues: StepIssues = {};
  for (const message of errors) {
    if (!message.startsWith(`${id}.`) && !message.startsWith(`${id}:`)) continue;
    const field = message.slice(id.length + 1).split(/[.:]/, 1)[0] ?? '';
    const shownBy = (SHOWN_FIELDS as readonly string[]).includes(field) ? (field as keyof StepIssues) : 'other';
    (issues[shownBy] ??= []).push(message);
  }
  return issues;
}
