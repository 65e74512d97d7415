import type { AttemptTranscript, Step, TranscriptEntry } from '../../api/types';
import { elapsed } from '../../lib/format';
import { LlmCallEntry } from './LlmCallEntry';
import { ToolCallEntry } from './ToolCallEntry';
import { useStepTranscript } from './useStepTranscript';

/** One attempt's LLM and tool calls, in the order they were made, each folded until opened. */
export function Transcript({ entries }: { entries: TranscriptEntry[] }) {
  if (!entries.length) return <p className="muted small">No calls yet.</p>;
  return (
    <ol className="transcript">
      {entries.map((entry, index) => (
        <li key={index}>
          {entry.kind === 'tool' ? (
            <ToolCallEntry entry={entry} index={index} />
          ) : (
            <LlmCallEntry entry={entry} index={index} />
          )}
        </li>
      ))}
    </ol>
  );
}

function Attempt({ attempt }: { attempt: AttemptTranscript }) {
  const title = `Execution ${attempt.execution}, attempt ${attempt.attempt}`;
  const took = elapsed(attempt.started_at, attempt.finished_at);
  return (
    <section className="transcript__attempt" aria-label={title}>
      <h4 className="transcript__attempt-title">
        {title}
        {took && <span className="muted"> · {took}</span>}{' '}
        {attempt.error !== null && <span className="badge tone-failed">failed</span>}
      </h4>
      {attempt.error !== null && <pre className="code-block code-block--error">{attempt.error}</pre>}
      <Transcript entries={attempt.entries} />
    </section>
  );
}

/**
 * A task step's calls, attempt by attempt, from the transcript endpoint. Until it
 * answers (or when it cannot), the calls the step itself carries: its last attempt's.
 */
export function StepTranscriptView({ runId, step }: { runId: string; step: Step }) {
  const { attempts, error } = useStepTranscript(runId, step);
  if (attempts?.length) {
    return (
      <div className="transcript__attempts">
        {attempts.map((attempt) => (
          <Attempt key={`${attempt.execution}-${attempt.attempt}`} attempt={attempt} />
        ))}
      </div>
    );
  }
  return (
    <>
      {error && <p className="muted small">Could not load every attempt ({error}); the last one's calls follow.</p>}
      <Transcript entries={step.transcript} />
    </>
  );
}
