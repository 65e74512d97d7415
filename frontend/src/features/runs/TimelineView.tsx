import type { Run } from '../../api/types';
import { Notice } from '../../components/Notice';
import { RunTimeline } from './RunTimeline';
import { useRunTimeline } from './useRunTimeline';

/** The console's Timeline tab: the run's Gantt view, kept fresh while the run is open. */
export function TimelineView({ run }: { run: Run }) {
  const { timeline, error } = useRunTimeline(run);
  return (
    <>
      {error && <Notice>Could not load the timeline: {error}</Notice>}
      {timeline ? <RunTimeline timeline={timeline} /> : !error && <p className="muted timeline">Loading the timeline…</p>}
    </>
  );
}
