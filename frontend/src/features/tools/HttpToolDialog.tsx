import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { HttpMethod, HttpTool } from '../../api/types';
import { Dialog } from '../../components/Dialog';
import { DialogActions } from '../../components/DialogActions';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { NameField, TextField } from '../../components/TextField';
import { ConnectionFields, connectionBody, useConnectionText } from './ConnectionFields';
import { fieldErrors } from './forms';

const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const NEW_SCHEMA = { type: 'object', properties: {}, required: [] };

type Idempotent = 'default' | 'yes' | 'no';

interface Props {
  /** The tool to edit, or null for a new one. */
  tool: HttpTool | null;
  onClose: () => void;
  onSaved: (tool: HttpTool) => void;
}

/** Define an HTTP tool, or save a new version of one. */
export function HttpToolDialog({ tool, onClose, onSaved }: Props) {
  const editing = tool !== null;
  const [name, setName] = useState(tool?.name ?? '');
  const [description, setDescription] = useState(tool?.description ?? '');
  const [method, setMethod] = useState<HttpMethod>(tool?.method ?? 'GET');
  const [urlTemplate, setUrlTemplate] = useState(tool?.url_template ?? '');
  const [argsSchema, setArgsSchema] = useState(JSON.stringify(tool?.args_schema ?? NEW_SCHEMA, null, 2));
  const [connection, setConnection] = useConnectionText(tool);
  // An existing tool says what it is; the default follows the method.
  const [idempotent, setIdempotent] = useState<Idempotent>(tool ? (tool.idempotent ? 'yes' : 'no') : 'default');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string[]> = {};
    // The server checks it is a JSON Schema of type object, and says where it is not.
    type ArgsSchema = { type: 'object'; [key: string]: unknown };
    let schema: ArgsSchema = { type: 'object' };
    try {
      schema = JSON.parse(argsSchema) as ArgsSchema;
    } catch (error) {
      found.args_schema = [`Not JSON: ${error instanceof Error ? error.message : String(error)}`];
    }
    const sent = connectionBody(connection, editing, found);
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = {
      kind: 'http' as const,
      description,
      method,
      url_template: urlTemplate,
      args_schema: schema,
      idempotent: idempotent === 'default' ? null : idempotent === 'yes',
      ...sent.body,
    };
    setBusy(true);
    try {
      const saved = editing
        ? await api.updateHttpTool(tool.name, body)
        : await api.createHttpTool({ ...body, name, secret_headers: sent.secretHeaders });
      onSaved(saved);
    } catch (error) {
      setErrors(fieldErrors(error));
      setBusy(false);
    }
  };

  return (
    <Dialog title={editing ? `Edit HTTP tool ${tool.name}` : 'New HTTP tool'} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        {editing && <Notice tone="info">Saving makes version {tool.version + 1}; runs started before keep theirs.</Notice>}
        <NameField editing={editing} errors={errors.name} hint="Letters, digits, _ and -; what agents list" value={name} onChange={setName} />
        <TextField
          label="Description"
          required
          rows={2}
          errors={errors.description}
          hint="What the tool does, for the model"
          value={description}
          onChange={setDescription}
        />
        <Field label="Method" errors={errors.method}>
          {(control) => (
            <select {...control} className="input" value={method} onChange={(e) => setMethod(e.target.value as HttpMethod)}>
              {METHODS.map((item) => (
                <option key={item}>{item}</option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="URL template"
          required
          mono
          errors={errors.url_template}
          hint="Each {variable} is an argument; the others go to the query (GET) or the JSON body"
          placeholder="https://api.example.com/orders/{order_id}"
          value={urlTemplate}
          onChange={setUrlTemplate}
        />
        <TextField
          label="Arguments schema"
          mono
          rows={6}
          errors={errors.args_schema}
          hint="A JSON Schema of type object"
          value={argsSchema}
          onChange={setArgsSchema}
        />
        <ConnectionFields
          text={connection}
          onChange={setConnection}
          stored={tool ? tool.secret_header_names : null}
          errors={errors}
        />
        <Field
          label="Safe to repeat"
          errors={errors.idempotent}
          hint="A call that is not safe to repeat is never made again by a retry"
        >
          {(control) => (
            <select
              {...control}
              className="input"
              value={idempotent}
              onChange={(e) => setIdempotent(e.target.value as Idempotent)}
            >
              <option value="default">By method (GET yes, others no)</option>
              <option value="yes">Yes</option>
              <option value="no">No</option>
            </select>
          )}
        </Field>
        <DialogActions errors={errors['']} busy={busy} submitLabel={editing ? 'Save version' : 'Create tool'} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
