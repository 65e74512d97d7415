/** How a transcript's loosely typed parts (messages, requested tool calls) read as text. */

/** A tool an LLM reply asked for: its name and its arguments as compact JSON. */
export interface ToolRequest {
  name: string;
  arguments: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string as it is; anything else as pretty JSON. */
export const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/** JSON arguments on one line: a string of JSON re-encoded compactly, or kept as sent when it is not JSON. */
function compactArguments(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(JSON.parse(value));
  } catch {
    return value;
  }
}

/** The tools a reply asked for, from its `tool_calls` (`{id, type, function: {name, arguments}}`). */
export function toolRequests(calls: unknown): ToolRequest[] {
  if (!Array.isArray(calls)) return [];
  return calls.filter(isRecord).map((call) => {
    const fn = isRecord(call.function) ? call.function : call;
    return {
      name: typeof fn.name === 'string' ? fn.name : 'unnamed tool',
      arguments: compactArguments(fn.arguments),
    };
  });
}

const clip = (text: string, limit: number): string => (text.length <= limit ? text : `${text.slice(0, limit)}…`);

/** `asked for tools: search({"q":"tides"}), fetch({…})`, each argument list cut to `limit` characters if given. */
export function askedFor(requests: readonly ToolRequest[], limit = Infinity): string {
  const calls = requests.map((request) => `${request.name}(${clip(request.arguments, limit)})`);
  return `asked for tools: ${calls.join(', ')}`;
}

/** A chat message's role, the call it answers (a tool message), its content and the tools it asked for. */
export function describeMessage(message: Record<string, unknown>): {
  role: string;
  toolCallId: string | null;
  content: string | null;
  requests: ToolRequest[];
} {
  const { role, tool_call_id: toolCallId, content, tool_calls: toolCalls } = message;
  return {
    role: typeof role === 'string' ? role : 'message',
    toolCallId: typeof toolCallId === 'string' ? toolCallId : null,
    content: content === null || content === undefined || content === '' ? null : asText(content),
    requests: toolRequests(toolCalls),
  };
}
