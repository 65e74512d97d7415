import { useShallow } from 'zustand/react/shallow';
import type { FieldMessages } from '../../lib/validation';
import type { ConditionData, ConditionNode } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { IdField } from './fields';
import { ExpressionField, JoinField } from './step-fields';
import { BranchPicker, DependencyPicker } from './StepLinks';

interface Props {
  id: string;
  data: ConditionData;
  issues: FieldMessages;
}

/** A condition: its expression, the steps it takes when that holds (then) and when not (else). */
export function ConditionForm({ id, data, issues }: Props) {
  const { renameNode, updateNodeData } = useDesigner(
    useShallow((s) => ({ renameNode: s.renameNode, updateNodeData: s.updateNodeData })),
  );
  const update = (patch: Partial<ConditionData>) => updateNodeData<ConditionNode>(id, patch);
  return (
    <>
      <IdField value={id} onRename={(next) => renameNode(id, next)} errors={issues.id} />
      <ExpressionField label="If" value={data.if} onChange={(value) => update({ if: value })} errors={issues.if} />
      <BranchPicker sourceId={id} branch="then" legend="Then" errors={issues.then} />
      <BranchPicker sourceId={id} branch="else" legend="Else" errors={issues.else} />
      <DependencyPicker stepId={id} errors={issues.after} />
      <JoinField value={data.join} onChange={(join) => update({ join })} errors={issues.join} />
    </>
  );
}
