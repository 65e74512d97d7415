import type { ToolCall } from '../../api/types';
import { formatDuration } from '../../lib/format';
import { LongText } from './LongText';
import { ReplayedBadge } from './ReplayedBadge';

function Outcome({ entry }: { entry: ToolCall }) {
  if (entry.error !== null) {
    return (
      <>
        <h5 className="transcript__label">Error</h5>
        <LongText text={entry.error} what="error" tone="error" />
      </>
    );
  }
  return (
    <>
      <h5 className="transcript__label">Result</h5>
      {entry.output === null ? <p className="muted small">No result.</p> : <LongText text={entry.output} what="result" />}
    </>
  );
}

/** One tool call: its name, arguments, result or error, and how long it took; folded until opened. */
export function ToolCallEntry({ entry, index }: { entry: ToolCall; index: number }) {
  const failed = entry.error !== null;
  return (
    <details className={failed ? 'transcript__entry transcript__entry--error' : 'transcript__entry'}>
      <summary>
        {index + 1}. Tool <span className="mono">{entry.tool}</span> · {formatDuration(entry.latency_ms)}
        {failed && (
          <>
            {' '}
            <span className="badge tone-failed">error</span>
          </>
        )}
        {entry.replayed && (
          <>
            {' '}
            <ReplayedBadge />
          </>
        )}
      </summary>
      <h5 className="transcript__label">Arguments</h5>
      <pre className="code-block">{JSON.stringify(entry.arguments, null, 2)}</pre>
      <Outcome entry={entry} />
    </details>
  );
}
