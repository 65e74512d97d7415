/** What the tool forms share: header lists typed as lines, and a 422's items by field. */
import { ApiError, errorMessage } from '../../api/client';

/** `Name: value` per line, as a header map; blank lines are skipped. */
export function parseHeaders(text: string): { headers: Record<string, string>; problem: string | null } {
  const headers: Record<string, string> = {};
  for (const [index, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!name) return { headers, problem: `Line ${index + 1}: write a header as Name: value` };
    headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, problem: null };
}

export function formatHeaders(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
}

/**
 * Each problem by the request field it is about (`["body", "url", …]` → `url`); anything
 * else under `''`.
 */
export function fieldErrors(error: unknown): Record<string, string[]> {
  if (!(error instanceof ApiError) || !error.issues.length) return { '': [errorMessage(error)] };
  const errors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const [where, field] = issue.loc;
    const key = where === 'body' && typeof field === 'string' ? field : '';
    const msg = issue.msg.replace(/^Value error, /, '');
    errors[key] = [...(errors[key] ?? []), key ? msg : `${issue.loc.join('.')}: ${msg}`];
  }
  return errors;
}

/** A positive number of seconds typed as text, or a message. */
export function parseSeconds(text: string): number | string {
  const seconds = Number(text);
  return text.trim() && Number.isFinite(seconds) && seconds > 0 ? seconds : 'Enter a number of seconds above 0';
}
