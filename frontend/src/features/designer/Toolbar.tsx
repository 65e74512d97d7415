import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { Field } from '../../components/Field';
import { useDesigner, type Validity } from '../../stores/designer-store';
import { usePermission } from '../../stores/session-store';
import { RoleNote } from '../account/RoleNote';
import { ScheduleDialog } from '../schedules/ScheduleDialog';
import { RunDialog } from './RunDialog';
import { saveWorkflow, type SaveProblem } from './save';

const VALIDITY_TEXT: Record<Validity, string> = {
  unknown: 'Not checked',
  checking: 'Checking…',
  valid: 'Valid',
  invalid: 'Has problems',
};

const VALIDITY_TONE: Record<Validity, string> = {
  unknown: 'pending',
  checking: 'running',
  valid: 'completed',
  invalid: 'failed',
};

/** Name, validity, Save and Schedule (editors) and Run (operators); for others, why not. */
export function Toolbar() {
  const { name, setName, workflowId, saved, dirty, validity } = useDesigner(
    useShallow((s) => ({
      name: s.name,
      setName: s.setName,
      workflowId: s.workflowId,
      saved: s.saved,
      dirty: s.dirty,
      validity: s.validity,
    })),
  );
  const [problem, setProblem] = useState<SaveProblem | null>(null);
  const [saving, setSaving] = useState(false);
  const [running, setRunning] = useState(false);
  const [scheduling, setScheduling] = useState(false);
  const edit = usePermission('edit');
  const operate = usePermission('operate');

  const save = async () => {
    setSaving(true);
    setProblem(await saveWorkflow());
    setSaving(false);
  };

  return (
    <div className="toolbar">
      <div className="toolbar__name">
        <Field label="Workflow name" errors={problem?.name ? [problem.name] : []}>
          {(control) => (
            <input
              {...control}
              className="input input--title"
              placeholder="Untitled workflow"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
      </div>
      <div className="toolbar__status" role="status">
        <span className={`badge tone-${VALIDITY_TONE[validity]}`}>
          <span className="badge__dot" aria-hidden="true" />
          {VALIDITY_TEXT[validity]}
        </span>
        <span className="muted small">
          {saved ? `Version ${saved.version}` : 'Not saved yet'}
          {dirty && ' · unsaved changes'}
        </span>
      </div>
      {problem?.general && (
        <p className="field__error toolbar__error" role="alert">
          {problem.general}
        </p>
      )}
      <div className="toolbar__actions">
        <RoleNote reasons={[operate.reason, operate.allowed ? edit.reason : null]} />
        {edit.allowed && (
          <button type="button" className="btn btn--secondary" onClick={save} disabled={saving} aria-busy={saving}>
            Save
          </button>
        )}
        {operate.allowed && (
          <button
            type="button"
            className="btn btn--primary"
            onClick={() => setRunning(true)}
            disabled={!workflowId || !saved}
            title={workflowId ? undefined : 'Save the workflow first'}
          >
            Run
          </button>
        )}
        {edit.allowed && (
          <button
            type="button"
            className="btn btn--secondary"
            onClick={() => setScheduling(true)}
            disabled={!workflowId || !saved}
            title={workflowId ? undefined : 'Save the workflow first'}
          >
            Schedule
          </button>
        )}
      </div>
      {running && workflowId && saved && (
        <RunDialog
          workflowId={workflowId}
          version={saved.version}
          inputs={saved.inputs}
          unsaved={dirty}
          onClose={() => setRunning(false)}
        />
      )}
      {scheduling && workflowId && saved && (
        <ScheduleDialog
          workflowId={workflowId}
          version={saved.version}
          inputs={saved.inputs}
          onClose={() => setScheduling(false)}
        />
      )}
    </div>
  );
}
