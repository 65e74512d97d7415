import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { Schedule } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { Notice } from '../../components/Notice';
import { formatDateTime } from '../../lib/format';
import { href } from '../../router';
import { usePermission } from '../../stores/session-store';
import { RoleNote } from '../account/RoleNote';

const RECENT_SHOWN = 3;
const NEXT_SHOWN = 2;

/** When a schedule fires, in a phrase: "0 9 * * 1-5 (Europe/Paris)" or "every 3600 s". */
export function scheduleTiming(schedule: Schedule): string {
  if (schedule.cron) return `${schedule.cron} (${schedule.time_zone})`;
  return `every ${schedule.interval ?? '?'} s`;
}

/** What names a schedule to people and screen readers: its workflow and its timing. */
const scheduleName = (schedule: Schedule) => `${schedule.workflow_name}, ${scheduleTiming(schedule)}`;

/** The workspace's schedules, their next and recent runs, and what operators may do with them. */
export function SchedulesPage() {
  const [items, setItems] = useState<Schedule[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const operate = usePermission('operate');
  const edit = usePermission('edit');

  const reload = useCallback(async () => {
    try {
      setItems((await api.listSchedules()).items);
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  const act = async (action: () => Promise<unknown>, done?: string) => {
    setNotice(null);
    try {
      await action();
      if (done) setNotice(done);
      await reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const remove = (schedule: Schedule) => {
    if (window.confirm(`Delete the schedule of “${schedule.workflow_name}”? The runs it started stay.`)) {
      void act(() => api.deleteSchedule(schedule.id));
    }
  };

  const columns: Column<Schedule>[] = [
    {
      header: 'Workflow',
      cell: (s) => <a href={href(`/workflows/${s.workflow_id}`)}>{s.workflow_name}</a>,
    },
    { header: 'When', className: 'mono', cell: scheduleTiming },
    { header: 'Version', cell: (s) => (s.version === 'latest' ? 'latest' : `v${s.version}`) },
    {
      header: 'State',
      cell: (s) => (
        <span className={`badge tone-${s.paused ? 'pending' : 'completed'}`} title={s.note ?? undefined}>
          <span className="badge__dot" aria-hidden="true" />
          {s.paused ? 'Paused' : 'Active'}
        </span>
      ),
    },
    {
      header: 'Next runs',
      cell: (s) =>
        s.paused || !s.next_action_times.length ? (
          <span className="muted">—</span>
        ) : (
          <ul className="plain-list">
            {s.next_action_times.slice(0, NEXT_SHOWN).map((time) => (
              <li key={time}>{formatDateTime(time)}</li>
            ))}
          </ul>
        ),
    },
    {
      header: 'Recent runs',
      cell: (s) =>
        s.recent_actions.length === 0 ? (
          <span className="muted">None yet</span>
        ) : (
          <ul className="plain-list">
            {[...s.recent_actions]
              .reverse()
              .slice(0, RECENT_SHOWN)
              .map((action) => (
                <li key={action.run_id}>
                  <a href={href(`/runs/${encodeURIComponent(action.run_id)}`)}>{formatDateTime(action.scheduled_at)}</a>
                  {s.running.includes(action.run_id) && <span className="muted small"> · running</span>}
                </li>
              ))}
          </ul>
        ),
    },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'table__actions',
      cell: (s) => (
        <>
          {operate.allowed && (
            <>
              <button
                type="button"
                className="btn btn--ghost btn--sm"
                aria-label={`${s.paused ? 'Resume' : 'Pause'} ${scheduleName(s)}`}
                onClick={() => void act(() => (s.paused ? api.unpauseSchedule(s.id) : api.pauseSchedule(s.id)))}
              >
                {s.paused ? 'Resume' : 'Pause'}
              </button>
              <button
                type="button"
                className="btn btn--ghost btn--sm"
                aria-label={`Run now ${scheduleName(s)}`}
                onClick={() => void act(() => api.triggerSchedule(s.id), `Started a run of ${s.workflow_name}.`)}
              >
                Run now
              </button>
            </>
          )}
          {edit.allowed && (
            <button
              type="button"
              className="btn btn--ghost btn--sm"
              aria-label={`Delete ${scheduleName(s)}`}
              onClick={() => remove(s)}
            >
              Delete
            </button>
          )}
        </>
      ),
    },
  ];

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Schedules</h1>
        <button type="button" className="btn btn--secondary" onClick={() => void reload()}>
          Refresh
        </button>
      </header>
      <RoleNote reasons={[operate.reason]} />
      {notice && <Notice tone="info">{notice}</Notice>}
      <ListTable
        items={items}
        error={error}
        columns={columns}
        rowKey={(s) => s.id}
        empty={<p>No schedules yet. Open a workflow and choose Schedule to start its runs by themselves.</p>}
      />
    </div>
  );
}
