import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { AttemptTranscript, Step } from '../../api/types';

export interface StepTranscriptState {
  /** Every finished attempt, or null until the first answer (or when it failed). */
  attempts: AttemptTranscript[] | null;
  error: string | null;
}

interface Loaded extends StepTranscriptState {
  stepKey: string;
}

/**
 * A task step's attempts from `GET /runs/{id}/steps/{step}/transcript`, fetched again
 * whenever the step moves on (a new attempt or execution, another status). The last
 * answer stays shown while the next loads; another step's answer never shows.
 */
export function useStepTranscript(runId: string, step: Step): StepTranscriptState {
  const stepKey = `${runId}\n${step.id}`;
  const progress = [step.execution, step.attempt, step.status, step.finished_at ?? ''].join('\n');
  const [loaded, setLoaded] = useState<Loaded>({ stepKey: '', attempts: null, error: null });

  useEffect(() => {
    const controller = new AbortController();
    api.getStepTranscript(runId, step.id, controller.signal).then(
      (transcript) => {
        if (!controller.signal.aborted) setLoaded({ stepKey, attempts: transcript.attempts, error: null });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setLoaded({ stepKey, attempts: null, error: errorMessage(error) });
      },
    );
    return () => controller.abort();
  }, [runId, step.id, stepKey, progress]);

  return loaded.stepKey === stepKey ? { attempts: loaded.attempts, error: loaded.error } : { attempts: null, error: null };
}
