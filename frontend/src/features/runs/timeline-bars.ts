/**
 * The run timeline's rows and bars, from `GET /runs/{id}/timeline`: pure functions, so the
 * scale and the words each bar is read out with are tested without drawing anything.
 */
import type { RunTimeline, TimelineAttempt, TimelineCall, TimelineGap, TimelineGateWait, TimelineStep } from '../../api/types';
import { formatDuration } from '../../lib/format';
import { formatTokens, formatUsd } from '../../lib/usage-format';

export type BarKind = 'step' | 'attempt' | 'llm' | 'tool' | 'backoff' | 'paused' | 'gate';

export interface Bar {
  key: string;
  kind: BarKind;
  /** succeeded, failed, running, approve, reject, waiting… drawn as a colour. */
  tone: string;
  /** Percent of the axis: where the bar starts and how wide it is. */
  left: number;
  width: number;
  /** What the bar is, in words: its accessible name and its details on hover or focus. */
  label: string;
}

export interface Row {
  stepId: string;
  status: TimelineStep['status'];
  bars: Bar[];
  childRunIds: string[];
}

export interface Tick {
  left: number;
  label: string;
}

export interface Scale {
  start: number;
  end: number;
}

// A bar shorter than this still shows, and can be hovered.
const MIN_WIDTH = 0.5;
const LONGEST_TICK_MS = 86_400_000;
const TICK_STEPS_MS = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 21_600_000, 43_200_000, LONGEST_TICK_MS,
];

const ms = (iso: string) => new Date(iso).getTime();

/** The axis: from the run's start (or its first bar) to its close, or now while it runs. */
export function timelineScale(timeline: RunTimeline): Scale {
  const now = ms(timeline.now);
  const starts: number[] = [];
  const ends: number[] = [];
  const add = (start: string | null, end: string | null) => {
    if (start) starts.push(ms(start));
    ends.push(end ? ms(end) : now);
  };
  add(timeline.started_at, timeline.closed_at);
  for (const step of timeline.steps) {
    if (step.started_at) add(step.started_at, step.finished_at);
    for (const a of step.attempts) add(a.started_at, a.finished_at);
    for (const g of step.gaps) add(g.started_at, g.ended_at);
    for (const w of step.gate_waits) add(w.started_at, w.ended_at);
  }
  const start = starts.length ? Math.min(...starts) : now;
  const end = Math.max(start + 1, ...ends);
  return { start, end };
}

/** Round steps of time across the axis, labelled from the run's start: `0 s`, `+30 s`, `+2 min`. */
export function ticks(scale: Scale, most = 6): Tick[] {
  const span = scale.end - scale.start;
  const step = TICK_STEPS_MS.find((s) => span / s <= most) ?? LONGEST_TICK_MS;
  const found: Tick[] = [];
  for (let at = 0; at <= span; at += step) {
    found.push({ left: (at / span) * 100, label: at === 0 ? '0 s' : `+${formatDuration(at)}` });
  }
  return found;
}

function place(scale: Scale, start: string, end: string | null, now: number): Pick<Bar, 'left' | 'width'> {
  const span = scale.end - scale.start;
  const from = ms(start);
  const to = end ? ms(end) : now;
  const left = ((from - scale.start) / span) * 100;
  return { left, width: Math.min(100 - left, Math.max(MIN_WIDTH, ((to - from) / span) * 100)) };
}

function took(start: string, end: string | null, now: number): string {
  return end ? formatDuration(ms(end) - ms(start)) : `${formatDuration(now - ms(start))} so far`;
}

function attemptLabel(a: TimelineAttempt, now: number): string {
  const what = a.outcome === 'running' ? 'running' : a.outcome;
  const replayed = a.replayed_calls ? `, ${a.replayed_calls} calls replayed from the journal` : '';
  const error = a.error ? `: ${a.error}` : '';
  return `Attempt ${a.attempt} of execution ${a.execution}, ${what}, ${took(a.started_at, a.finished_at, now)}${replayed}${error}`;
}

function callLabel(c: TimelineCall, now: number): string {
  const time = took(c.started_at, c.finished_at, now);
  if (c.kind === 'llm') {
    return `LLM call to ${c.model}, ${time}, ${formatTokens(c.usage.total_tokens)} tokens, ${formatUsd(c.usage.cost_micros)}`;
  }
  const outcome = c.error ? `, failed: ${c.error}` : '';
  return `Tool call ${c.tool}, ${time}${outcome}`;
}

function gapLabel(g: TimelineGap, now: number): string {
  const what = g.kind === 'backoff' ? 'Retry backoff' : 'Paused, waiting for an operator';
  return `${what} after a failed attempt of execution ${g.execution}, ${took(g.started_at, g.ended_at, now)}`;
}

function gateLabel(w: TimelineGateWait, now: number): string {
  if (!w.decision) return `Gate waiting for a decision, round ${w.round}, ${took(w.started_at, null, now)}`;
  const verdict = w.decision === 'approve' ? 'approved' : 'rejected';
  return `Gate round ${w.round}, ${verdict}${w.actor ? ` by ${w.actor}` : ''} after ${took(w.started_at, w.ended_at, now)}`;
}

function stepBars(step: TimelineStep, scale: Scale, now: number): Bar[] {
  const bars: Bar[] = [];
  const bar = (key: string, kind: BarKind, tone: string, start: string, end: string | null, label: string) =>
    bars.push({ key, kind, tone, label, ...place(scale, start, end, now) });
  // A step of another kind (a map, a loop, a condition) is drawn as one bar for its time.
  if (step.type !== 'task' && step.type !== 'approval' && step.started_at) {
    bar('step', 'step', step.status, step.started_at, step.finished_at, `${step.type} step ${step.status}, ${took(step.started_at, step.finished_at, now)}`);
  }
  for (const w of step.gate_waits) {
    bar(`gate-${w.round}`, 'gate', w.decision ?? 'waiting', w.started_at, w.ended_at, gateLabel(w, now));
  }
  for (const g of step.gaps) {
    bar(`gap-${g.execution}-${g.started_at}`, g.kind, g.kind, g.started_at, g.ended_at, gapLabel(g, now));
  }
  for (const a of step.attempts) {
    const id = `${a.execution}.${a.attempt}`;
    bar(`attempt-${id}`, 'attempt', a.outcome, a.started_at, a.finished_at, attemptLabel(a, now));
    for (const c of a.calls) {
      const tone = c.kind === 'tool' && c.error ? 'failed' : c.finished_at ? 'succeeded' : 'running';
      bar(`call-${id}-${c.call_index}`, c.kind, tone, c.started_at, c.finished_at ?? a.finished_at, callLabel(c, now));
    }
  }
  return bars;
}

/** One row per step, in the run's order, each with its bars placed on the scale. */
export function timelineRows(timeline: RunTimeline, scale: Scale): Row[] {
  const now = ms(timeline.now);
  return timeline.steps.map((step) => ({
    stepId: step.step_id,
    status: step.status,
    bars: stepBars(step, scale, now),
    childRunIds: step.child_run_ids,
  }));
}
