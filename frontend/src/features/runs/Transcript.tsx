import type { TranscriptEntry } from '../../api/types';
import { formatDuration } from '../../lib/format';

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

function Entry({ entry, index }: { entry: TranscriptEntry; index: number }) {
  if (entry.kind === 'tool') {
    return (
      <details className="transcript__entry">
        <summary>
          {index + 1}. Tool <span className="mono">{entry.tool}</span> · {formatDuration(entry.latency_ms)}
        </summary>
        <h4 className="transcript__label">Input</h4>
        <pre className="code-block">{asText(entry.input)}</pre>
        <h4 className="transcript__label">Output</h4>
        <pre className="code-block">{asText(entry.output)}</pre>
      </details>
    );
  }
  return (
    <details className="transcript__entry">
      <summary>
        {index + 1}. LLM <span className="mono">{entry.model}</span> · {formatDuration(entry.latency_ms)}
        {entry.usage && ` · ${entry.usage.total_tokens} tokens`}
      </summary>
      {entry.messages.map((message, i) => (
        <div key={i} className="transcript__message">
          <h4 className="transcript__label">{message.role}</h4>
          <pre className="code-block">{message.content}</pre>
        </div>
      ))}
      <h4 className="transcript__label">Reply</h4>
      <pre className="code-block">{entry.reply}</pre>
    </details>
  );
}

/** Every LLM and tool call of a step, each folded until opened. */
export function Transcript({ entries }: { entries: TranscriptEntry[] }) {
  if (!entries.length) return <p className="muted small">No calls yet.</p>;
  return (
    <div className="transcript">
      {entries.map((entry, index) => (
        <Entry key={index} entry={entry} index={index} />
      ))}
    </div>
  );
}
