import type { LlmCall } from '../../api/types';
import { formatDuration } from '../../lib/format';
import { ReplayedBadge } from './ReplayedBadge';
import { askedFor, describeMessage, toolRequests } from './transcript-text';

/** How much of each requested tool's arguments the folded summary shows. */
const SUMMARY_ARGUMENT_CHARS = 60;

function Message({ message }: { message: Record<string, unknown> }) {
  const { role, toolCallId, content, requests } = describeMessage(message);
  return (
    <div className="transcript__message">
      <h5 className="transcript__label">
        {role}
        {toolCallId && (
          <>
            {' · '}
            <span className="mono">{toolCallId}</span>
          </>
        )}
      </h5>
      {content !== null && <pre className="code-block">{content}</pre>}
      {requests.length > 0 && <pre className="code-block">{askedFor(requests)}</pre>}
    </div>
  );
}

/** One LLM call: its prompt messages and its reply (text, or the tools it asked for); folded until opened. */
export function LlmCallEntry({ entry, index }: { entry: LlmCall; index: number }) {
  const requests = toolRequests(entry.tool_calls);
  return (
    <details className="transcript__entry">
      <summary>
        {index + 1}. LLM <span className="mono">{entry.model}</span> · {formatDuration(entry.latency_ms)} ·{' '}
        {entry.usage.total_tokens} tokens
        {entry.replayed && (
          <>
            {' '}
            <ReplayedBadge />
          </>
        )}
        {requests.length > 0 && (
          <span className="transcript__asks"> · {askedFor(requests, SUMMARY_ARGUMENT_CHARS)}</span>
        )}
      </summary>
      {entry.messages.map((message, i) => (
        <Message key={i} message={message} />
      ))}
      <h5 className="transcript__label">Reply</h5>
      {entry.reply && <pre className="code-block">{entry.reply}</pre>}
      {requests.length > 0 && <pre className="code-block">{askedFor(requests)}</pre>}
      {!entry.reply && requests.length === 0 && <p className="muted small">Empty reply.</p>}
    </details>
  );
}
