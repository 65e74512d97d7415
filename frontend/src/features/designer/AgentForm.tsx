import { useShallow } from 'zustand/react/shallow';
import { DEFAULTS } from '../../lib/definition';
import type { FieldMessages } from '../../lib/validation';
import type { AgentData, AgentNode } from '../../nodes/types';
import { useDesigner } from '../../stores/designer-store';
import { useModels } from '../../stores/models-store';
import { toolChoices, useTools } from '../../stores/tools-store';
import { IdField, MultiSelectField, NumberField, SelectField, TextField } from './fields';

interface Props {
  id: string;
  data: AgentData;
  issues: FieldMessages;
}

export function AgentForm({ id, data, issues }: Props) {
  const { renameNode, updateNodeData } = useDesigner(
    useShallow((s) => ({ renameNode: s.renameNode, updateNodeData: s.updateNodeData })),
  );
  const { models, modelsError } = useModels(useShallow((s) => ({ models: s.models, modelsError: s.error })));
  const { catalogue, servers, toolsError } = useTools(
    useShallow((s) => ({ catalogue: s.catalogue, servers: s.servers, toolsError: s.error })),
  );
  const update = (patch: Partial<AgentData>) => updateNodeData<AgentNode>(id, patch);
  const names = models.map((model) => model.name);
  const options = names.includes(data.llm) ? names : [data.llm, ...names];
  return (
    <>
      <IdField value={id} onRename={(next) => renameNode(id, next)} errors={issues.id} />
      <TextField label="Role" value={data.role} onChange={(role) => update({ role })} errors={issues.role} />
      <TextField label="Goal" value={data.goal} onChange={(goal) => update({ goal })} errors={issues.goal} multiline />
      <TextField
        label="Backstory"
        value={data.backstory}
        onChange={(backstory) => update({ backstory })}
        errors={issues.backstory}
        multiline
      />
      <SelectField
        label="Model"
        value={data.llm}
        options={options.map((name) => ({ value: name, label: models.some((m) => m.name === name) ? name : `${name} (unknown)` }))}
        onChange={(llm) => update({ llm })}
        errors={issues.llm}
        hint={modelsError ? `Models could not be loaded: ${modelsError}` : undefined}
      />
      <MultiSelectField
        label="Tools"
        value={data.tools ?? []}
        groups={toolChoices(catalogue, servers)}
        onChange={(tools) => update({ tools })}
        errors={issues.tools}
        hint={
          toolsError
            ? `Tools could not be loaded: ${toolsError}`
            : 'Ctrl or ⌘ and click to pick several. <server>.* is every tool of an MCP server.'
        }
      />
      <NumberField
        label="Max iterations"
        value={data.max_iter}
        fallback={DEFAULTS.maxIter}
        onChange={(max_iter) => update({ max_iter })}
        scope={id}
        errors={issues.max_iter}
        min={1}
        step={1}
      />
    </>
  );
}
