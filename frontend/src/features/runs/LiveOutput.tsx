import type { Step } from '../../api/types';
import { useLiveOutputStore } from '../../stores/live-output-store';

/**
 * What the running steps' LLMs are writing, as it streams: one log region that screen
 * readers follow politely. A step's text goes once it stops running; its output stays.
 */
export function LiveOutput({ steps }: { steps: Step[] }) {
  const byStep = useLiveOutputStore((s) => s.byStep);
  const live = steps.filter((step) => step.status === 'running' && byStep[step.id]?.text);
  if (live.length === 0) return null;
  return (
    <section className="panel live-output">
      <h2 className="panel__title">Live output</h2>
      <div role="log" aria-label="Live output" aria-live="polite">
        {live.map((step) => (
          <div key={step.id} className="live-output__step">
            <h3 className="small mono">{step.id}</h3>
            <p className="live-output__text">{byStep[step.id]?.text}</p>
          </div>
        ))}
      </div>
    </section>
  );
}
