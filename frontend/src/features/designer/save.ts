/** Saving: a first save creates the workflow, every later one makes a new version. */
import { api, ApiError, errorMessage } from '../../api/client';
import { graphToDefinition, graphToLayout } from '../../lib/graph';
import { mapIssues } from '../../lib/validation';
import { navigate } from '../../router';
import { useDesigner } from '../../stores/designer-store';

export interface SaveProblem {
  /** About the workflow name (empty, or taken). */
  name?: string;
  /** About anything else. */
  general?: string;
}

/** Save the designer's workflow; resolves to the problem, or null when it was saved. */
export async function saveWorkflow(): Promise<SaveProblem | null> {
  const state = useDesigner.getState();
  const name = state.name.trim();
  if (!name) return { name: 'Name the workflow before saving' };
  const spec = graphToDefinition(state);
  const body = { name, description: state.description, spec, layout: graphToLayout(state.nodes) };
  try {
    const workflow = state.workflowId
      ? await api.updateWorkflow(state.workflowId, body)
      : await api.createWorkflow(body);
    useDesigner.getState().markSaved(workflow);
    if (!state.workflowId) navigate(`/workflows/${workflow.id}`);
    return null;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      return { name: typeof error.detail === 'string' ? error.detail : 'Another workflow already has this name' };
    }
    if (error instanceof ApiError && error.status === 422) {
      useDesigner.getState().setValidation('invalid', mapIssues(error.issues, spec));
      return { general: 'Not saved: fix the problems marked on the canvas first.' };
    }
    return { general: `Not saved: ${errorMessage(error)}` };
  }
}
