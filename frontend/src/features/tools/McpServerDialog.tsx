import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { McpServer, McpTransport } from '../../api/types';
import { Dialog } from '../../components/Dialog';
import { DialogActions } from '../../components/DialogActions';
import { Field } from '../../components/Field';
import { NameField, TextField } from '../../components/TextField';
import { ConnectionFields, connectionBody, useConnectionText } from './ConnectionFields';
import { fieldErrors } from './forms';

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
  const [connection, setConnection] = useConnectionText(server);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const stdio = transport === 'stdio';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string[]> = {};
    const sent = connectionBody(connection, editing, found);
    const args = command.split('\n').filter((line) => line.trim() !== '');
    if (stdio && args.length === 0) found.command = ['Required: the program, then one argument per line'];
    if (!stdio && !url.trim()) found.url = ['Required'];
    setErrors(found);
    if (Object.keys(found).length) return;
    const body = {
      transport,
      url: stdio ? null : url.trim(),
      command: stdio ? args : null,
      ...sent.body,
    };
    setBusy(true);
    try {
      const saved = editing
        ? await api.updateMcpServer(server.name, body)
        : await api.createMcpServer({ ...body, name, secret_headers: sent.secretHeaders });
      onSaved(saved);
    } catch (error) {
      setErrors(fieldErrors(error));
      setBusy(false);
    }
  };

  return (
    <Dialog title={editing ? `Edit MCP server ${server.name}` : 'New MCP server'} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <NameField editing={editing} errors={errors.name} hint="Its tools are named <name>.<tool>" value={name} onChange={setName} />
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
          <TextField
            label="Command"
            required
            mono
            rows={3}
            errors={errors.command}
            hint="The program, then one argument per line. Workers run it only where KASAL_ALLOW_STDIO_MCP=true."
            value={command}
            onChange={setCommand}
          />
        ) : (
          <TextField
            label="URL"
            required
            mono
            errors={errors.url}
            placeholder="https://mcp.example.com/mcp"
            value={url}
            onChange={setUrl}
          />
        )}
        <ConnectionFields
          text={connection}
          onChange={setConnection}
          stored={server ? server.secret_header_names : null}
          errors={errors}
        />
        <DialogActions errors={errors['']} busy={busy} submitLabel={editing ? 'Save version' : 'Create server'} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
