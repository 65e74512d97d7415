import { useShallow } from 'zustand/react/shallow';
import { Field, FieldErrors } from '../../components/Field';
import { useDesigner } from '../../stores/designer-store';

/** The workflow's run inputs: name, description, required and default, one group each. */
export function InputsEditor() {
  const { inputs, issues, addInput, updateInput, removeInput } = useDesigner(
    useShallow((s) => ({
      inputs: s.inputs,
      issues: s.issues.inputs,
      addInput: s.addInput,
      updateInput: s.updateInput,
      removeInput: s.removeInput,
    })),
  );
  return (
    <section className="panel-section" aria-labelledby="inputs-title">
      <h2 id="inputs-title" className="section-title">
        Inputs
      </h2>
      <FieldErrors id="inputs-errors" errors={issues[-1]?.[''] ?? []} />
      {inputs.length === 0 && <p className="muted small">Runs ask for nothing. Add an input to use {'{name}'} in texts.</p>}
      {inputs.map((input, index) => {
        const errors = issues[index] ?? {};
        const label = `Input ${index + 1}`;
        return (
          <fieldset key={index} className="input-row" aria-label={label}>
            <Field label="Input name" errors={errors.name}>
              {(control) => (
                <input
                  {...control}
                  className="input input--mono"
                  value={input.name}
                  onChange={(e) => updateInput(index, { name: e.target.value })}
                />
              )}
            </Field>
            <Field label="Input description" errors={errors.description}>
              {(control) => (
                <input
                  {...control}
                  className="input"
                  value={input.description ?? ''}
                  onChange={(e) => updateInput(index, { description: e.target.value })}
                />
              )}
            </Field>
            <Field label="Default value" errors={errors.default}>
              {(control) => (
                <input
                  {...control}
                  className="input"
                  value={input.default ?? ''}
                  onChange={(e) => updateInput(index, { default: e.target.value || null })}
                />
              )}
            </Field>
            <div className="input-row__footer">
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={input.required ?? true}
                  onChange={(e) => updateInput(index, { required: e.target.checked })}
                />
                Required
              </label>
              <button
                type="button"
                className="btn btn--ghost btn--sm"
                aria-label={`Remove input ${index + 1}`}
                onClick={() => removeInput(index)}
              >
                Remove
              </button>
            </div>
            <FieldErrors id={undefined} errors={[...(errors[''] ?? []), ...(errors.required ?? [])]} />
          </fieldset>
        );
      })}
      <button type="button" className="btn btn--secondary btn--sm" onClick={addInput}>
        Add input
      </button>
    </section>
  );
}
