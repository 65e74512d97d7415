/** What a condition, router, map, loop or sub-workflow step of a run has done so far. */
import type { Step } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { childStatusText } from '../../nodes/run-facts';
import { href } from '../../router';

/** Child runs listed open up to this many; more are folded behind their count. */
const OPEN_UP_TO = 5;

/** The branch chosen, the items done, the iteration, and the child runs (newest first) with their links. */
export function StepProgress({ step }: { step: Step }) {
  const children = [...step.child_run_ids].reverse();
  return (
    <>
      {(step.branch || step.type === 'map' || step.type === 'loop') && (
        <dl className="facts">
          {step.branch && (
            <>
              <dt>Branch taken</dt>
              <dd className="mono">{step.branch}</dd>
            </>
          )}
          {step.type === 'map' && (
            <>
              <dt>Items</dt>
              <dd>
                {step.items_total === null ? (
                  'not counted yet'
                ) : (
                  <>
                    <progress max={step.items_total || 1} value={step.items_done} aria-label="Items done" /> {step.items_done} /{' '}
                    {step.items_total} done
                  </>
                )}
              </dd>
            </>
          )}
          {step.type === 'loop' && (
            <>
              <dt>Iteration</dt>
              <dd>{step.iteration || 'not begun'}</dd>
            </>
          )}
        </dl>
      )}
      {step.child_status && (
        <p className="child-status">
          <StatusBadge run={step.child_status} /> {childStatusText(step)}
          {children[0] && (
            <>
              : <a href={href(`/runs/${children[0]}`)}>open it</a>
            </>
          )}
        </p>
      )}
      {children.length > 0 && (
        <details className="child-runs" open={children.length <= OPEN_UP_TO}>
          <summary>Child runs ({children.length})</summary>
          <ol aria-label="Child runs, newest first">
            {children.map((runId) => (
              <li key={runId}>
                <a className="mono" href={href(`/runs/${runId}`)}>
                  {runId}
                </a>
              </li>
            ))}
          </ol>
        </details>
      )}
    </>
  );
}

/**
 * Steps whose child run needs someone (a gate waiting, a step paused): at the top of the
 * parent's console, each linking to the child's console, where it is decided.
 */
export function ChildAttention({ steps }: { steps: Step[] }) {
  const waiting = steps.filter((step) => step.child_status && step.child_run_ids.length > 0);
  if (!waiting.length) return null;
  return (
    <ul className="child-attention" aria-label="Child runs that need someone">
      {waiting.map((step) => (
        <li key={step.id}>
          <span className="mono">{step.id}</span>: {childStatusText(step)}{' '}
          <a href={href(`/runs/${step.child_run_ids[step.child_run_ids.length - 1]}`)}>Open the child run</a>
        </li>
      ))}
    </ul>
  );
}
