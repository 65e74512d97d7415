/** What an HTTP tool and an MCP server both have: headers, secret headers and a timeout. */
import { useState } from 'react';
import { AmountField, TextField } from '../../components/TextField';
import { formatHeaders, parseHeaders, parseSeconds } from './forms';
import { SecretHeadersField, secretHeadersBody } from './SecretHeadersField';

/** The fields as typed. */
export interface ConnectionText {
  headers: string;
  secretHeaders: string;
  removeSecrets: boolean;
  timeout: string;
}

interface Saved {
  headers: Record<string, string>;
  timeout_seconds: number;
}

/** The fields' text, from what is saved (or the defaults for a new one). */
export function useConnectionText(saved: Saved | null) {
  return useState<ConnectionText>({
    headers: formatHeaders(saved?.headers ?? {}),
    secretHeaders: '',
    removeSecrets: false,
    timeout: String(saved?.timeout_seconds ?? 30),
  });
}

/**
 * What a request sends for the fields, and the secret headers typed (a create sends them
 * as they are). Problems go into `found` under their request field; with any, do not send.
 */
export function connectionBody(text: ConnectionText, editing: boolean, found: Record<string, string[]>) {
  const plain = parseHeaders(text.headers);
  const secret = parseHeaders(text.secretHeaders);
  const seconds = parseSeconds(text.timeout);
  if (plain.problem) found.headers = [plain.problem];
  if (secret.problem) found.secret_headers = [secret.problem];
  if (typeof seconds === 'string') found.timeout_seconds = [seconds];
  return {
    body: {
      headers: plain.headers,
      timeout_seconds: typeof seconds === 'string' ? 0 : seconds,
      ...secretHeadersBody(secret.headers, editing, text.removeSecrets),
    },
    secretHeaders: secret.headers,
  };
}

interface Props {
  text: ConnectionText;
  onChange: (text: ConnectionText) => void;
  /** The secret header names stored now, when editing. */
  stored: string[] | null;
  errors: Record<string, string[]>;
}

export function ConnectionFields({ text, onChange, stored, errors }: Props) {
  const change = (part: Partial<ConnectionText>) => onChange({ ...text, ...part });
  return (
    <>
      <TextField
        label="Headers"
        mono
        rows={2}
        errors={errors.headers}
        hint="Name: value per line"
        value={text.headers}
        onChange={(headers) => change({ headers })}
      />
      <SecretHeadersField
        value={text.secretHeaders}
        onChange={(secretHeaders) => change({ secretHeaders })}
        stored={stored}
        remove={text.removeSecrets}
        onRemove={(removeSecrets) => change({ removeSecrets })}
        errors={errors.secret_headers}
      />
      <AmountField
        label="Timeout (seconds)"
        errors={errors.timeout_seconds}
        value={text.timeout}
        onChange={(timeout) => change({ timeout })}
      />
    </>
  );
}
