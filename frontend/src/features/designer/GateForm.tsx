import { useShallow } from 'zustand/react/shallow';
import { DEFAULTS, type OnReject, type OnTimeout } from '../../lib/definition';
import type { FieldMessages } from '../../lib/validation';
import type { ApprovalData, ApprovalNode } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { IdField, ListField, NumberField, SelectField, TextField } from './fields';
import { JoinField } from './step-fields';
import { DependencyPicker } from './StepLinks';

interface Props {
  id: string;
  data: ApprovalData;
  issues: FieldMessages;
}

const ON_TIMEOUT: { value: OnTimeout; label: string }[] = [
  { value: 'reject', label: 'Reject' },
  { value: 'approve', label: 'Approve' },
  { value: 'fail', label: 'Fail the run' },
];

const ON_REJECT: { value: OnReject; label: string }[] = [
  { value: 'end', label: 'End the run' },
  { value: 'retry_upstream', label: 'Redo the steps before it' },
];

export function GateForm({ id, data, issues }: Props) {
  const { renameNode, updateNodeData } = useDesigner(
    useShallow((s) => ({ renameNode: s.renameNode, updateNodeData: s.updateNodeData })),
  );
  const update = (patch: Partial<ApprovalData>) => updateNodeData<ApprovalNode>(id, patch);
  return (
    <>
      <IdField value={id} onRename={(next) => renameNode(id, next)} errors={issues.id} />
      <TextField
        label="Message"
        value={data.message}
        onChange={(message) => update({ message })}
        errors={issues.message}
        hint="What the approver is asked."
        multiline
      />
      <ListField
        label="Approvers"
        value={data.approvers ?? []}
        onChange={(approvers) => update({ approvers: approvers.length ? approvers : undefined })}
        scope={id}
        errors={issues.approvers}
        hint="Who may decide: emails, or a role (operator, editor, admin) and those above it; one a line. None: operators and above."
      />
      <DependencyPicker stepId={id} errors={issues.after} />
      <NumberField
        label="Timeout (s)"
        value={data.timeout_seconds}
        fallback={DEFAULTS.gateTimeout}
        onChange={(timeout_seconds) => update({ timeout_seconds })}
        scope={id}
        errors={issues.timeout_seconds}
        min={1}
      />
      <SelectField
        label="On timeout"
        value={data.on_timeout ?? DEFAULTS.onTimeout}
        options={ON_TIMEOUT}
        onChange={(on_timeout) => update({ on_timeout })}
        errors={issues.on_timeout}
      />
      <SelectField
        label="On reject"
        value={data.on_reject ?? DEFAULTS.onReject}
        options={ON_REJECT}
        onChange={(on_reject) => update({ on_reject })}
        errors={issues.on_reject}
      />
      <NumberField
        label="Max rejections"
        value={data.max_rejections}
        fallback={DEFAULTS.maxRejections}
        onChange={(max_rejections) => update({ max_rejections })}
        scope={id}
        errors={issues.max_rejections}
        min={1}
        step={1}
      />
      <JoinField value={data.join} onChange={(join) => update({ join })} errors={issues.join} />
    </>
  );
}
