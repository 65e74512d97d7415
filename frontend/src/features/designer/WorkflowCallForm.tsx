import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { Notice } from '../../components/Notice';
import type { ExprValue } from '../../lib/definition';
import type { FieldMessages } from '../../lib/validation';
import type { WorkflowCallData, WorkflowCallNode } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { useWorkflowList } from '../../stores/workflow-list-store';
import { IdField, SelectField, TextField } from './fields';
import { JoinField } from './step-fields';
import { DependencyPicker } from './StepLinks';

interface Props {
  id: string;
  data: WorkflowCallData;
  issues: FieldMessages;
}

type InputValue = string | ExprValue;
const isExpr = (value: InputValue): value is ExprValue => typeof value === 'object';

/** The saved workflow to run (by name), its version, and the inputs it is given. */
export function WorkflowCallForm({ id, data, issues }: Props) {
  const { renameNode, updateNodeData } = useDesigner(
    useShallow((s) => ({ renameNode: s.renameNode, updateNodeData: s.updateNodeData })),
  );
  const { workflows, error, ensureLoaded } = useWorkflowList(
    useShallow((s) => ({ workflows: s.workflows, error: s.error, ensureLoaded: s.ensureLoaded })),
  );
  useEffect(() => {
    void ensureLoaded();
  }, [ensureLoaded]);
  const update = (patch: Partial<WorkflowCallData>) => updateNodeData<WorkflowCallNode>(id, patch);

  const names = workflows.map((workflow) => workflow.name).sort();
  const known = names.includes(data.workflow);
  const workflowOptions = [
    { value: '', label: names.length ? 'Choose a workflow…' : 'No saved workflows yet' },
    ...(data.workflow && !known ? [{ value: data.workflow, label: `${data.workflow} (not found)` }] : []),
    ...names,
  ];
  const latest = workflows.find((workflow) => workflow.name === data.workflow)?.version ?? 0;
  const version = data.version ?? 'latest';
  const numbers = Array.from({ length: Math.max(latest, typeof version === 'number' ? version : 0) }, (_, i) => String(i + 1)).reverse();
  const versionOptions = [{ value: 'latest', label: 'Latest (pinned when a run starts)' }, ...numbers.map((n) => ({ value: n, label: `Version ${n}` }))];

  return (
    <>
      <IdField value={id} onRename={(next) => renameNode(id, next)} errors={issues.id} />
      {error && <Notice>Could not list the saved workflows: {error}</Notice>}
      <SelectField label="Workflow" value={data.workflow} options={workflowOptions} onChange={(workflow) => update({ workflow })} errors={issues.workflow} />
      <SelectField
        label="Version"
        value={String(version)}
        options={versionOptions}
        onChange={(picked) => update({ version: picked === 'latest' ? 'latest' : Number(picked) })}
        errors={issues.version}
      />
      <CallInputs value={data.inputs ?? {}} onChange={(inputs) => update({ inputs })} errors={issues.inputs} />
      <DependencyPicker stepId={id} errors={issues.after} />
      <JoinField value={data.join} onChange={(join) => update({ join })} errors={issues.join} />
    </>
  );
}

/** The child's inputs, one row each: a name, and a template (`{topic}`) or an expression. */
function CallInputs({ value, onChange, errors = [] }: { value: Record<string, InputValue>; onChange: (inputs: Record<string, InputValue>) => void; errors?: string[] }) {
  const entries = Object.entries(value);
  const replace = (index: number, entry: [string, InputValue]) => {
    // A name another row uses is not taken: the rows would merge.
    if (entries.some(([name], i) => i !== index && name === entry[0])) return;
    onChange(Object.fromEntries(entries.map((old, i) => (i === index ? entry : old))));
  };
  const add = () => {
    let n = entries.length + 1;
    while (`input_${n}` in value) n += 1;
    onChange({ ...value, [`input_${n}`]: '' });
  };
  return (
    <fieldset className="fieldset">
      <legend>Inputs of the workflow</legend>
      {entries.map(([name, input], index) => {
        const n = index + 1;
        const text = isExpr(input) ? input.expr : input;
        return (
          <div key={index} className="input-row" role="group" aria-label={`Input ${n}`}>
            <TextField label={`Input ${n} name`} value={name} onChange={(next) => replace(index, [next, input])} />
            <TextField
              label={`Input ${n} value`}
              value={text}
              onChange={(next) => replace(index, [name, isExpr(input) ? { expr: next } : next])}
              hint={isExpr(input) ? 'An expression over upstream outputs and inputs.' : 'Text; {input_name} inserts a run input.'}
            />
            <div className="input-row__footer">
              <label className="checklist__item">
                <input type="checkbox" checked={isExpr(input)} onChange={() => replace(index, [name, isExpr(input) ? input.expr : { expr: input }])} />
                Input {n} is an expression
              </label>
              <button
                type="button"
                className="btn btn--ghost btn--sm"
                aria-label={`Remove input ${n}`}
                onClick={() => onChange(Object.fromEntries(entries.filter((_, i) => i !== index)))}
              >
                Remove
              </button>
            </div>
          </div>
        );
      })}
      {errors.length > 0 && <p className="field__error">{errors.join(' · ')}</p>}
      <button type="button" className="btn btn--secondary btn--sm" onClick={add}>
        Add workflow input
      </button>
    </fieldset>
  );
}
