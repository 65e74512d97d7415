import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, errorMessage } from '../../api/client';
import { Notice } from '../../components/Notice';
import { useDesigner } from '../../stores/designer-store';
import { useModels } from '../../stores/models-store';
import { useTools } from '../../stores/tools-store';
import { DesignerCanvas } from './Canvas';
import { InputsEditor } from './InputsEditor';
import { Palette } from './Palette';
import { PropertiesPanel } from './PropertiesPanel';
import { Toolbar } from './Toolbar';
import { useLiveValidation } from './useLiveValidation';
import { VersionsList } from './VersionsList';

/**
 * Keep the designer store on the workflow the route names (a new one for `null`, unless
 * the route says an unsaved draft is already on the canvas).
 */
function useWorkflowFromRoute(
  workflowId: string | null,
  draft: boolean,
): { loading: boolean; error: string | null } {
  const [state, setState] = useState({ loading: false, error: null as string | null });
  useEffect(() => {
    const designer = useDesigner.getState();
    if (workflowId === null) {
      if (!draft) designer.reset();
      return;
    }
    if (designer.workflowId === workflowId) return; // just created here
    let active = true;
    setState({ loading: true, error: null });
    api
      .getWorkflow(workflowId)
      .then((workflow) => {
        if (!active) return;
        useDesigner.getState().load(workflow);
        setState({ loading: false, error: null });
      })
      .catch((error: unknown) => {
        if (active) setState({ loading: false, error: errorMessage(error) });
      });
    return () => {
      active = false;
    };
  }, [workflowId, draft]);
  return state;
}

/** Pick the first model as the one new agents get. */
function useDefaultModel(): void {
  const { models, ensureLoaded } = useModels(useShallow((s) => ({ models: s.models, ensureLoaded: s.ensureLoaded })));
  const setDefaultModel = useDesigner((s) => s.setDefaultModel);
  useEffect(() => {
    void ensureLoaded();
  }, [ensureLoaded]);
  useEffect(() => {
    if (models[0]) setDefaultModel(models[0].name);
  }, [models, setDefaultModel]);
}

/** Load the tool catalogue for the agents' tool pickers. */
function useToolCatalogue(): void {
  const ensureLoaded = useTools((s) => s.ensureLoaded);
  useEffect(() => {
    void ensureLoaded();
  }, [ensureLoaded]);
}

function WorkflowDetails() {
  const { description, setDescription } = useDesigner(
    useShallow((s) => ({ description: s.description, setDescription: s.setDescription })),
  );
  return (
    <section className="panel-section">
      <label className="field__label" htmlFor="workflow-description">
        Workflow description
      </label>
      <textarea
        id="workflow-description"
        className="input"
        rows={2}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
    </section>
  );
}

/** Draw a workflow: palette and settings on the left, the canvas, the selected node on the right. */
export function DesignerPage({ workflowId, draft = false }: { workflowId: string | null; draft?: boolean }) {
  const { loading, error } = useWorkflowFromRoute(workflowId, draft);
  useDefaultModel();
  useToolCatalogue();
  useLiveValidation();
  if (error) {
    return (
      <div className="page">
        <Notice>Could not load the workflow: {error}</Notice>
      </div>
    );
  }
  if (loading) return <p className="muted page-pad">Loading…</p>;
  return (
    <ReactFlowProvider>
      <div className="designer">
        <Toolbar />
        <aside className="panel sidebar" aria-label="Workflow settings">
          <Palette />
          <WorkflowDetails />
          <InputsEditor />
          <VersionsList />
        </aside>
        <section className="designer__canvas">
          <DesignerCanvas />
        </section>
        <PropertiesPanel />
      </div>
    </ReactFlowProvider>
  );
}
