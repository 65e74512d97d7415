import { useState } from 'react';
import type { RunTimeline as Timeline } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { href } from '../../router';
import '../../styles/timeline.css';
import { type Bar, ticks, timelineRows, timelineScale } from './timeline-bars';

const LEGEND: { kind: Bar['kind']; tone: string; text: string }[] = [
  { kind: 'attempt', tone: 'succeeded', text: 'Attempt' },
  { kind: 'attempt', tone: 'failed', text: 'Failed attempt' },
  { kind: 'llm', tone: 'succeeded', text: 'LLM call' },
  { kind: 'tool', tone: 'succeeded', text: 'Tool call' },
  { kind: 'backoff', tone: 'backoff', text: 'Retry backoff' },
  { kind: 'paused', tone: 'paused', text: 'Paused' },
  { kind: 'gate', tone: 'waiting', text: 'Gate wait' },
];

function BarView({ bar, onShow }: { bar: Bar; onShow: (bar: Bar) => void }) {
  return (
    <div
      role="img"
      tabIndex={0}
      aria-label={bar.label}
      title={bar.label}
      className={`timeline__bar timeline__bar--${bar.kind} timeline__bar--${bar.tone}`}
      style={{ left: `${bar.left}%`, width: `${bar.width}%` }}
      onMouseEnter={() => onShow(bar)}
      onFocus={() => onShow(bar)}
    />
  );
}

/**
 * A Gantt view of one run: a row per step on one time axis, with its attempts, the LLM and
 * tool calls inside each, retry backoffs and pauses between them, and a gate's waits. Every
 * bar is focusable and named, and its details show below on hover or focus.
 */
export function RunTimeline({ timeline }: { timeline: Timeline }) {
  const [shown, setShown] = useState<Bar | null>(null);
  const scale = timelineScale(timeline);
  const rows = timelineRows(timeline, scale);
  const children = rows.filter((row) => row.childRunIds.length > 0);
  return (
    <section className="timeline" aria-label="Run timeline">
      <ul className="timeline__legend" aria-label="Bar kinds">
        {LEGEND.map((item) => (
          <li key={item.text}>
            <span className={`timeline__swatch timeline__bar--${item.kind} timeline__bar--${item.tone}`} aria-hidden="true" />
            {item.text}
          </li>
        ))}
      </ul>
      <div className="timeline__chart">
        <div className="timeline__row timeline__row--axis" aria-hidden="true">
          <span className="timeline__label" />
          <div className="timeline__track">
            {ticks(scale).map((tick) => (
              <span key={tick.label} className="timeline__tick" style={{ left: `${tick.left}%` }}>
                {tick.label}
              </span>
            ))}
          </div>
        </div>
        {rows.map((row) => (
          <div key={row.stepId} className="timeline__row" role="group" aria-label={`Step ${row.stepId}`}>
            <span className="timeline__label">
              <span className="mono">{row.stepId}</span> <StatusBadge step={row.status} />
            </span>
            <div className="timeline__track">
              {row.bars.map((bar) => (
                <BarView key={bar.key} bar={bar} onShow={setShown} />
              ))}
            </div>
          </div>
        ))}
      </div>
      <p className="timeline__details small" aria-live="polite">
        {shown ? shown.label : 'Hover over or focus a bar for its details.'}
      </p>
      {children.length > 0 && (
        <p className="muted small">
          Steps of child runs are not drawn here; each has its own timeline:{' '}
          {children.map((row) => (
            <span key={row.stepId}>
              {row.stepId}{' '}
              {row.childRunIds.map((id) => (
                <a key={id} className="mono" href={href(`/runs/${id}`)}>
                  {id}{' '}
                </a>
              ))}
            </span>
          ))}
        </p>
      )}
    </section>
  );
}
