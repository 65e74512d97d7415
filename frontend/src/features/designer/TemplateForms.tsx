/** Maps and loops: their own fields, and the template steps they run. */
import { useShallow } from 'zustand/react/shallow';
import { DEFAULTS } from '../../lib/definition';
import type { FieldMessages } from '../../lib/validation';
import type { LoopData, LoopNode, MapData, MapNode } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { IdField, NumberField } from './fields';
import { ExpressionField, JoinField } from './step-fields';
import { DependencyPicker } from './StepLinks';
import { TemplateStepsEditor } from './TemplateStepsEditor';

interface Props<D> {
  id: string;
  data: D;
  issues: FieldMessages;
}

function useNodeEditing<N extends MapNode | LoopNode>(id: string) {
  const { renameNode, updateNodeData } = useDesigner(
    useShallow((s) => ({ renameNode: s.renameNode, updateNodeData: s.updateNodeData })),
  );
  return { rename: (next: string) => renameNode(id, next), update: (patch: Partial<N['data']>) => updateNodeData<N>(id, patch) };
}

/** A map: the list to run over, how many items at a time and per child run, and the steps each item runs. */
export function MapForm({ id, data, issues }: Props<MapData>) {
  const { rename, update } = useNodeEditing<MapNode>(id);
  return (
    <>
      <IdField value={id} onRename={rename} errors={issues.id} />
      <ExpressionField
        label="Items"
        value={data.items}
        onChange={(items) => update({ items })}
        errors={issues.items}
        hint='An expression giving a JSON list, e.g. output("list_orders").orders or input("urls").'
      />
      <NumberField
        label="Max parallel"
        value={data.max_parallel}
        fallback={DEFAULTS.mapMaxParallel}
        onChange={(max_parallel) => update({ max_parallel })}
        scope={id}
        errors={issues.max_parallel}
        min={1}
        step={1}
      />
      <NumberField
        label="Chunk size"
        value={data.chunk_size}
        fallback={DEFAULTS.mapChunkSize}
        onChange={(chunk_size) => update({ chunk_size })}
        scope={id}
        errors={issues.chunk_size}
        min={1}
        step={1}
      />
      <TemplateStepsEditor
        scope={id}
        value={data.steps}
        onChange={(steps) => update({ steps })}
        errors={issues.steps}
        hint="Run once per item. Their text may use {item} and {index}."
      />
      <DependencyPicker stepId={id} errors={issues.after} />
      <JoinField value={data.join} onChange={(join) => update({ join })} errors={issues.join} />
    </>
  );
}

/** A loop: the steps it repeats, the expression that ends it, and its limit. */
export function LoopForm({ id, data, issues }: Props<LoopData>) {
  const { rename, update } = useNodeEditing<LoopNode>(id);
  return (
    <>
      <IdField value={id} onRename={rename} errors={issues.id} />
      <ExpressionField label="Until" value={data.until} onChange={(until) => update({ until })} errors={issues.until} />
      <NumberField
        label="Max iterations"
        value={data.max_iterations}
        fallback={DEFAULTS.maxIterations}
        onChange={(max_iterations) => update({ max_iterations })}
        scope={id}
        errors={issues.max_iterations}
        min={1}
        step={1}
      />
      <TemplateStepsEditor
        scope={id}
        value={data.steps}
        onChange={(steps) => update({ steps })}
        errors={issues.steps}
        hint="Run each iteration, seeing the previous iteration's outputs."
      />
      <DependencyPicker stepId={id} errors={issues.after} />
      <JoinField value={data.join} onChange={(join) => update({ join })} errors={issues.join} />
    </>
  );
}
