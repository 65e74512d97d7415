import { useShallow } from 'zustand/react/shallow';
import { useDesigner } from '../../stores/designer-store';
import { Checklist, SelectField } from './fields';

/** The task's agent: the one agent edge into its `agent` handle. */
export function AgentPicker({ taskId, errors }: { taskId: string; errors?: string[] }) {
  const agentIds = useDesigner(
    useShallow((s) => s.nodes.filter((node) => node.type === 'agent').map((node) => node.id)),
  );
  const current = useDesigner(
    (s) => s.edges.find((edge) => edge.target === taskId && edge.targetHandle === 'agent')?.source ?? '',
  );
  const setAgent = useDesigner((s) => s.setAgent);
  return (
    <SelectField
      label="Agent"
      value={current}
      options={[{ value: '', label: agentIds.length ? 'Choose an agent…' : 'Add an agent first' }, ...agentIds]}
      onChange={(agentId) => setAgent(taskId, agentId || null)}
      errors={errors}
    />
  );
}

/** The steps this step waits for: its dependency edges. */
export function DependencyPicker({ stepId, errors }: { stepId: string; errors?: string[] }) {
  const stepIds = useDesigner(
    useShallow((s) => s.nodes.filter((node) => node.type !== 'agent' && node.id !== stepId).map((node) => node.id)),
  );
  const after = useDesigner(
    useShallow((s) => s.edges.filter((edge) => edge.target === stepId && edge.targetHandle === 'in').map((edge) => edge.source)),
  );
  const toggleDependency = useDesigner((s) => s.toggleDependency);
  return (
    <Checklist
      legend="Runs after"
      options={stepIds}
      checked={after}
      onToggle={(dependency) => toggleDependency(stepId, dependency)}
      errors={errors}
      empty="No other steps yet."
    />
  );
}

/** The steps a condition's or router's `branch` takes: its edges from that branch's handle. */
export function BranchPicker({ sourceId, branch, legend, errors }: { sourceId: string; branch: string; legend: string; errors?: string[] }) {
  const stepIds = useDesigner(
    useShallow((s) => s.nodes.filter((node) => node.type !== 'agent' && node.id !== sourceId).map((node) => node.id)),
  );
  const taken = useDesigner(
    useShallow((s) =>
      s.edges.filter((edge) => edge.source === sourceId && edge.sourceHandle === branch && edge.targetHandle === 'in').map((edge) => edge.target),
    ),
  );
  const toggleBranch = useDesigner((s) => s.toggleBranch);
  return (
    <Checklist
      legend={legend}
      options={stepIds}
      checked={taken}
      onToggle={(target) => toggleBranch(sourceId, branch, target)}
      errors={errors}
      empty="No other steps yet."
    />
  );
}
