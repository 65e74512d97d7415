import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { HttpMethod, HttpTool } from '../../api/types';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { fieldErrors, formatHeaders, parseHeaders, parseSeconds } from './forms';
import { SecretHeadersField, secretHeadersBody } from './SecretHeadersField';

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
  const [headers, setHeaders] = useState(formatHeaders(tool?.headers ?? {}));
  const [secretHeaders, setSecretHeaders] = useState('');
  const [removeSecrets, setRemoveSecrets] = useState(false);
  const [timeout, setTimeoutText] = useState(String(tool?.timeout_seconds ?? 30));
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
    const plain = parseHeaders(headers);
    const secret = parseHeaders(secretHeaders);
    const seconds = parseSeconds(timeout);
    if (plain.problem) found.headers = [plain.problem];
    if (secret.problem) found.secret_headers = [secret.problem];
    if (typeof seconds === 'string') found.timeout_seconds = [seconds];
    setErrors(found);
    if (Object.keys(found).length || typeof seconds === 'string') return;
    const body = {
      kind: 'http' as const,
      description,
      method,
      url_template: urlTemplate,
      args_schema: schema,
      headers: plain.headers,
      timeout_seconds: seconds,
      idempotent: idempotent === 'default' ? null : idempotent === 'yes',
      ...secretHeadersBody(secret.headers, editing, removeSecrets),
    };
    setBusy(true);
    try {
      const saved = editing
        ? await api.updateHttpTool(tool.name, body)
        : await api.createHttpTool({ ...body, name, secret_headers: secret.headers });
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
        <Field label="Name" required errors={errors.name} hint="Letters, digits, _ and -; what agents list">
          {(control) => (
            <input
              {...control}
              className="input input--mono"
              required
              disabled={editing}
              spellCheck={false}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Description" required errors={errors.description} hint="What the tool does, for the model">
          {(control) => (
            <textarea
              {...control}
              className="input"
              rows={2}
              required
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          )}
        </Field>
        <Field label="Method" errors={errors.method}>
          {(control) => (
            <select {...control} className="input" value={method} onChange={(e) => setMethod(e.target.value as HttpMethod)}>
              {METHODS.map((item) => (
                <option key={item}>{item}</option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="URL template"
          required
          errors={errors.url_template}
          hint="Each {variable} is an argument; the others go to the query (GET) or the JSON body"
        >
          {(control) => (
            <input
              {...control}
              className="input input--mono"
              required
              spellCheck={false}
              placeholder="https://api.example.com/orders/{order_id}"
              value={urlTemplate}
              onChange={(e) => setUrlTemplate(e.target.value)}
            />
          )}
        </Field>
        <Field label="Arguments schema" errors={errors.args_schema} hint="A JSON Schema of type object">
          {(control) => (
            <textarea
              {...control}
              className="input input--mono"
              rows={6}
              spellCheck={false}
              value={argsSchema}
              onChange={(e) => setArgsSchema(e.target.value)}
            />
          )}
        </Field>
        <Field label="Headers" errors={errors.headers} hint="Name: value per line">
          {(control) => (
            <textarea
              {...control}
              className="input input--mono"
              rows={2}
              spellCheck={false}
              value={headers}
              onChange={(e) => setHeaders(e.target.value)}
            />
          )}
        </Field>
        <SecretHeadersField
          value={secretHeaders}
          onChange={setSecretHeaders}
          stored={tool ? tool.secret_header_names : null}
          remove={removeSecrets}
          onRemove={setRemoveSecrets}
          errors={errors.secret_headers}
        />
        <Field label="Timeout (seconds)" errors={errors.timeout_seconds}>
          {(control) => (
            <input
              {...control}
              className="input"
              type="number"
              min={0}
              step="any"
              value={timeout}
              onChange={(e) => setTimeoutText(e.target.value)}
            />
          )}
        </Field>
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
        {errors[''] && <Notice>{errors[''].join(' · ')}</Notice>}
        <div className="dialog__actions">
          <button type="button" className="btn btn--ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
            {editing ? 'Save version' : 'Create tool'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
