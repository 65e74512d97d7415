import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { McpServer, McpTransport } from '../../api/types';
import { Dialog } from '../../components/Dialog';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { fieldErrors, formatHeaders, parseHeaders, parseSeconds } from './forms';
import { SecretHeadersField, secretHeadersBody } from './SecretHeadersField';

const TRANSPORTS: { value: McpTransport; label: string }[] = [
  { value: 'streamable-http', label: 'Streamable HTTP' },
  { value: 'sse', label: 'SSE' },
  { value: 'stdio', label: 'stdio (a command on the worker)' },
];

interface Props {
  /** The server to edit, or null for a new one. */
  server: McpServer | null;
  onClose: () => void;
  onSaved: (server: McpServer) => void;
}

/** Define an MCP server, or save a new version of one. */
export function McpServerDialog({ server, onClose, onSaved }: Props) {
  const editing = server !== null;
  const [name, setName] = useState(server?.name ?? '');
  const [transport, setTransport] = useState<McpTransport>(server?.transport ?? 'streamable-http');
  const [url, setUrl] = useState(server?.url ?? '');
  const [command, setCommand] = useState((server?.command ?? []).join('\n'));
  const [headers, setHeaders] = useState(formatHeaders(server?.headers ?? {}));
  const [secretHeaders, setSecretHeaders] = useState('');
  const [removeSecrets, setRemoveSecrets] = useState(false);
  const [timeout, setTimeoutText] = useState(String(server?.timeout_seconds ?? 30));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const stdio = transport === 'stdio';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string[]> = {};
    const plain = parseHeaders(headers);
    const secret = parseHeaders(secretHeaders);
    const seconds = parseSeconds(timeout);
    const args = command.split('\n').filter((line) => line.trim() !== '');
    if (plain.problem) found.headers = [plain.problem];
    if (secret.problem) found.secret_headers = [secret.problem];
    if (typeof seconds === 'string') found.timeout_seconds = [seconds];
    if (stdio && args.length === 0) found.command = ['Required: the program, then one argument per line'];
    if (!stdio && !url.trim()) found.url = ['Required'];
    setErrors(found);
    if (Object.keys(found).length || typeof seconds === 'string') return;
    const body = {
      transport,
      url: stdio ? null : url.trim(),
      command: stdio ? args : null,
      headers: plain.headers,
      timeout_seconds: seconds,
      ...secretHeadersBody(secret.headers, editing, removeSecrets),
    };
    setBusy(true);
    try {
      const saved = editing
        ? await api.updateMcpServer(server.name, body)
        : await api.createMcpServer({ ...body, name, secret_headers: secret.headers });
      onSaved(saved);
    } catch (error) {
      setErrors(fieldErrors(error));
      setBusy(false);
    }
  };

  return (
    <Dialog title={editing ? `Edit MCP server ${server.name}` : 'New MCP server'} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <Field label="Name" required errors={errors.name} hint="Its tools are named <name>.<tool>">
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
        <Field label="Transport" errors={errors.transport}>
          {(control) => (
            <select
              {...control}
              className="input"
              value={transport}
              onChange={(e) => setTransport(e.target.value as McpTransport)}
            >
              {TRANSPORTS.map((item) => (
                <option key={item.value} value={item.value}>
                  {item.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {stdio ? (
          <Field
            label="Command"
            required
            errors={errors.command}
            hint="The program, then one argument per line. Workers run it only where KASAL_ALLOW_STDIO_MCP=true."
          >
            {(control) => (
              <textarea
                {...control}
                className="input input--mono"
                rows={3}
                required
                spellCheck={false}
                value={command}
                onChange={(e) => setCommand(e.target.value)}
              />
            )}
          </Field>
        ) : (
          <Field label="URL" required errors={errors.url}>
            {(control) => (
              <input
                {...control}
                className="input input--mono"
                required
                spellCheck={false}
                placeholder="https://mcp.example.com/mcp"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
              />
            )}
          </Field>
        )}
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
          stored={server ? server.secret_header_names : null}
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
        {errors[''] && <Notice>{errors[''].join(' · ')}</Notice>}
        <div className="dialog__actions">
          <button type="button" className="btn btn--ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
            {editing ? 'Save version' : 'Create server'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
