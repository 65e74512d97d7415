import { useShallow } from 'zustand/react/shallow';
import { DEFAULTS, type OnFailure, type RetrySpec } from '../../lib/definition';
import type { FieldMessages } from '../../lib/validation';
import type { TaskData, TaskNode } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { IdField, NumberField, SelectField, TextField } from './fields';
import { isObject, JoinField, JsonField } from './step-fields';
import { AgentPicker, DependencyPicker } from './StepLinks';

interface Props {
  id: string;
  data: TaskData;
  issues: FieldMessages;
}

const ON_FAILURE: { value: OnFailure; label: string }[] = [
  { value: 'pause', label: 'Pause for an operator' },
  { value: 'fail', label: 'Fail the run' },
];

export function TaskForm({ id, data, issues }: Props) {
  const { renameNode, updateNodeData } = useDesigner(
    useShallow((s) => ({ renameNode: s.renameNode, updateNodeData: s.updateNodeData })),
  );
  const update = (patch: Partial<TaskData>) => updateNodeData<TaskNode>(id, patch);
  const retry = (patch: RetrySpec) => update({ retry: { ...data.retry, ...patch } });
  return (
    <>
      <IdField value={id} onRename={(next) => renameNode(id, next)} errors={issues.id} />
      <AgentPicker taskId={id} errors={issues.agent} />
      <TextField
        label="Description"
        value={data.description}
        onChange={(description) => update({ description })}
        errors={issues.description}
        hint="Use {input_name} to insert a run input."
        multiline
      />
      <TextField
        label="Expected output"
        value={data.expected_output}
        onChange={(expected_output) => update({ expected_output })}
        errors={issues.expected_output}
        multiline
      />
      <DependencyPicker stepId={id} errors={issues.after} />
      <fieldset className="fieldset">
        <legend>Retry</legend>
        <div className="grid-3">
          <NumberField
            label="Max attempts"
            value={data.retry?.max_attempts}
            fallback={DEFAULTS.retry.max_attempts}
            onChange={(max_attempts) => retry({ max_attempts })}
            scope={id}
            errors={issues['retry.max_attempts']}
            min={1}
            step={1}
          />
          <NumberField
            label="Initial interval (s)"
            value={data.retry?.initial_interval_seconds}
            fallback={DEFAULTS.retry.initial_interval_seconds}
            onChange={(initial_interval_seconds) => retry({ initial_interval_seconds })}
            scope={id}
            errors={issues['retry.initial_interval_seconds']}
            min={0}
          />
          <NumberField
            label="Backoff"
            value={data.retry?.backoff}
            fallback={DEFAULTS.retry.backoff}
            onChange={(backoff) => retry({ backoff })}
            scope={id}
            errors={issues['retry.backoff']}
            min={1}
          />
        </div>
      </fieldset>
      <NumberField
        label="Timeout (s)"
        value={data.timeout_seconds}
        fallback={DEFAULTS.taskTimeout}
        onChange={(timeout_seconds) => update({ timeout_seconds })}
        scope={id}
        errors={issues.timeout_seconds}
        min={1}
      />
      <SelectField
        label="On failure"
        value={data.on_failure ?? DEFAULTS.onFailure}
        options={ON_FAILURE}
        onChange={(on_failure) => update({ on_failure })}
        errors={issues.on_failure}
      />
      <JsonField<Record<string, unknown>>
        label="Output schema"
        value={data.output_schema ?? undefined}
        onChange={(output_schema) => update({ output_schema })}
        check={isObject}
        scope={id}
        errors={issues.output_schema}
        hint='A JSON Schema the output must meet, e.g. {"type": "object", "properties": {"label": {"type": "string"}}}. Empty: free text.'
      />
      <JoinField value={data.join} onChange={(join) => update({ join })} errors={issues.join} />
    </>
  );
}
