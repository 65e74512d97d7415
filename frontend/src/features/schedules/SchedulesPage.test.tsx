// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Schedule } from '../../api/types';
import { signInAs } from '../../test/fixtures';
import { ScheduleDialog } from './ScheduleDialog';
import { SchedulesPage } from './SchedulesPage';

const DAILY: Schedule = {
  id: 'schedule-1',
  workflow_id: 'wf-1',
  workflow_name: 'research-brief',
  cron: '0 9 * * *',
  interval: null,
  time_zone: 'Europe/Paris',
  inputs: { topic: 'tides' },
  version: 'latest',
  overlap: 'skip',
  catchup_window: 600,
  paused: false,
  note: null,
  next_action_times: ['2026-12-02T08:00:00Z', '2026-12-03T08:00:00Z'],
  recent_actions: [
    { run_id: 'run-old', scheduled_at: '2026-11-30T08:00:00Z', started_at: '2026-11-30T08:00:01Z' },
    { run_id: 'run-new', scheduled_at: '2026-12-01T08:00:00Z', started_at: '2026-12-01T08:00:01Z' },
  ],
  running: ['run-new'],
  num_actions: 2,
  created_at: '2026-11-29T00:00:00Z',
};

interface Sent {
  method: string;
  path: string;
  body: unknown;
}

/** A small stand-in for the API: answers by method and path, and records each request. */
function serve(routes: Record<string, (body: unknown) => [number, unknown]>) {
  const sent: Sent[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      const path = url.replace('/api/v1', '');
      const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
      sent.push({ method, path, body });
      const route = routes[`${method} ${path}`];
      const [status, answer] = route ? route(body) : [404, { detail: `nothing at ${method} ${path}` }];
      return status === 204 ? new Response(null, { status }) : new Response(JSON.stringify(answer), { status });
    }),
  );
  return sent;
}

let schedules: Schedule[];
const list = { 'GET /schedules': (): [number, unknown] => [200, { items: schedules }] };
const NAME = 'research-brief, 0 9 * * * (Europe/Paris)';

beforeEach(() => {
  schedules = [DAILY];
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.location.hash = '';
});

describe('schedules page', () => {
  it('lists each schedule with its next runs and its recent runs linked to their consoles', async () => {
    signInAs('operator');
    serve(list);
    render(<SchedulesPage />);
    const newest = await screen.findByRole('link', { name: /Dec 1, 2026/ });
    expect(newest.getAttribute('href')).toBe('#/runs/run-new');
    const links = screen.getAllByRole('link').map((link) => link.getAttribute('href'));
    // Newest first, and the workflow links to its page.
    expect(links).toEqual(['#/workflows/wf-1', '#/runs/run-new', '#/runs/run-old']);
    expect(screen.getByText('Active')).toBeTruthy();
    expect(screen.getByText(/Dec 2, 2026/)).toBeTruthy();
    // Operators pause and trigger; deleting is an editor's.
    expect(screen.getByRole('button', { name: `Pause ${NAME}` })).toBeTruthy();
    expect(screen.getByRole('button', { name: `Run now ${NAME}` })).toBeTruthy();
    expect(screen.queryByRole('button', { name: `Delete ${NAME}` })).toBeNull();
  });

  it('pauses, resumes, triggers and deletes through the API', async () => {
    signInAs('editor');
    const sent = serve({
      ...list,
      'POST /schedules/schedule-1/pause': () => {
        schedules = [{ ...DAILY, paused: true, note: 'paused by editor@kasal.test' }];
        return [200, schedules[0]];
      },
      'POST /schedules/schedule-1/unpause': () => {
        schedules = [DAILY];
        return [200, DAILY];
      },
      'POST /schedules/schedule-1/trigger': () => [202, null],
      'DELETE /schedules/schedule-1': () => {
        schedules = [];
        return [204, null];
      },
    });
    render(<SchedulesPage />);
    fireEvent.click(await screen.findByRole('button', { name: `Pause ${NAME}` }));
    fireEvent.click(await screen.findByRole('button', { name: `Resume ${NAME}` }));
    expect(screen.getByText('Paused').closest('[title]')?.getAttribute('title')).toBe('paused by editor@kasal.test');
    await screen.findByRole('button', { name: `Pause ${NAME}` });
    expect(screen.getByText('Active')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: `Run now ${NAME}` }));
    expect(await screen.findByText('Started a run of research-brief.')).toBeTruthy();
    vi.stubGlobal('confirm', () => true);
    fireEvent.click(screen.getByRole('button', { name: `Delete ${NAME}` }));
    expect(await screen.findByText(/No schedules yet/)).toBeTruthy();
    const operations = sent.filter((request) => request.method !== 'GET').map((r) => `${r.method} ${r.path}`);
    expect(operations).toEqual([
      'POST /schedules/schedule-1/pause',
      'POST /schedules/schedule-1/unpause',
      'POST /schedules/schedule-1/trigger',
      'DELETE /schedules/schedule-1',
    ]);
  });

  it('offers viewers no buttons', async () => {
    signInAs('viewer');
    serve(list);
    render(<SchedulesPage />);
    await screen.findByText('research-brief');
    expect(screen.queryAllByRole('button', { name: /research-brief/ })).toEqual([]);
  });
});

describe('schedule dialog', () => {
  it('creates a schedule of the latest version, and shows each problem by its field', async () => {
    signInAs('editor');
    let attempts = 0;
    const sent = serve({
      'POST /workflows/wf-1/schedules': () => {
        attempts += 1;
        if (attempts === 1) {
          return [
            422,
            {
              detail: [
                { loc: ['body', 'cron'], msg: 'Invalid schedule spec', type: 'value_error' },
                { loc: ['inputs', 'topic'], msg: 'missing required input', type: 'compile_error' },
              ],
            },
          ];
        }
        return [201, DAILY];
      },
    });
    render(<ScheduleDialog workflowId="wf-1" version={3} inputs={[{ name: 'topic' }]} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText(/Cron expression/), { target: { value: '0 9 * *' } });
    fireEvent.change(screen.getByLabelText(/Time zone/), { target: { value: 'Europe/Paris' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    expect(await screen.findByText('Invalid schedule spec')).toBeTruthy();
    expect(screen.getByLabelText(/Cron expression/).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText(/topic/).getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(screen.getByLabelText(/Cron expression/), { target: { value: '0 9 * * *' } });
    fireEvent.change(screen.getByLabelText(/topic/), { target: { value: 'tides' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    await waitFor(() => expect(window.location.hash).toBe('#/schedules'));
    expect(sent[1]?.body).toEqual({
      cron: '0 9 * * *',
      time_zone: 'Europe/Paris',
      inputs: { topic: 'tides' },
      version: 'latest',
      overlap: 'skip',
      paused: false,
    });
  });
});
