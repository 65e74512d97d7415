import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage } from '../../api/client';
import type { ScheduleOverlap, ScheduleWrite } from '../../api/types';
import { Dialog } from '../../components/Dialog';
import { DialogActions } from '../../components/DialogActions';
import { Field } from '../../components/Field';
import type { InputSpec } from '../../lib/definition';
import { runInputIssues } from '../../lib/validation';
import { navigate } from '../../router';

interface Props {
  workflowId: string;
  /** The saved version, which a schedule may pin instead of following the latest. */
  version: number;
  inputs: InputSpec[];
  onClose: () => void;
}

const OVERLAPS: { value: ScheduleOverlap; label: string }[] = [
  { value: 'skip', label: 'Skip it' },
  { value: 'buffer_one', label: 'Start it when the open run closes' },
  { value: 'allow_all', label: 'Start it anyway' },
  { value: 'cancel_other', label: 'Cancel the open run, then start it' },
];

/** The browser's own time zone: what a person means by "9 o'clock". */
const localTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The errors of a 422, by the form's field: body fields by name, run inputs by input name. */
function formErrors(error: unknown): Record<string, string[]> {
  if (!(error instanceof ApiError) || !error.issues.length) return { '': [errorMessage(error)] };
  const body = error.issues.filter((issue) => issue.loc[0] === 'body');
  const byField: Record<string, string[]> = runInputIssues(error.issues.filter((issue) => issue.loc[0] !== 'body'));
  for (const { loc, msg } of body) (byField[String(loc[1] ?? '')] ??= []).push(msg);
  return byField;
}

/** Create a schedule of a saved workflow: when, which version, with which inputs. */
export function ScheduleDialog({ workflowId, version, inputs, onClose }: Props) {
  const [repeat, setRepeat] = useState<'cron' | 'interval'>('cron');
  const [cron, setCron] = useState('0 9 * * 1-5');
  const [interval, setInterval] = useState('3600');
  const [timeZone, setTimeZone] = useState(localTimeZone);
  const [pinned, setPinned] = useState(false);
  const [overlap, setOverlap] = useState<ScheduleOverlap>('skip');
  const [paused, setPaused] = useState(false);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(inputs.map((input) => [input.name, input.default ?? ''])),
  );
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    const body: ScheduleWrite = {
      ...(repeat === 'cron' ? { cron } : { interval: Number(interval) }),
      time_zone: timeZone,
      inputs: Object.fromEntries(Object.entries(values).filter(([, value]) => value !== '')),
      version: pinned ? version : 'latest',
      overlap,
      paused,
    };
    try {
      await api.createSchedule(workflowId, body);
      navigate('/schedules');
    } catch (error) {
      setErrors(formErrors(error));
      setBusy(false);
    }
  };

  return (
    <Dialog title="Schedule runs" onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <fieldset className="fieldset">
          <legend>Repeat</legend>
          <label>
            <input type="radio" name="repeat" checked={repeat === 'cron'} onChange={() => setRepeat('cron')} /> On a cron
            expression
          </label>
          <label>
            <input type="radio" name="repeat" checked={repeat === 'interval'} onChange={() => setRepeat('interval')} />{' '}
            Every so many seconds
          </label>
        </fieldset>
        {repeat === 'cron' ? (
          <Field label="Cron expression" required hint="minute hour day month weekday" errors={errors.cron}>
            {(control) => <input {...control} className="input mono" value={cron} onChange={(e) => setCron(e.target.value)} />}
          </Field>
        ) : (
          <Field label="Interval (seconds)" required errors={errors.interval}>
            {(control) => (
              <input
                {...control}
                className="input"
                type="number"
                min={1}
                value={interval}
                onChange={(e) => setInterval(e.target.value)}
              />
            )}
          </Field>
        )}
        <Field label="Time zone" hint="An IANA name, such as Europe/Paris" errors={errors.time_zone}>
          {(control) => <input {...control} className="input" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} />}
        </Field>
        <label>
          <input type="checkbox" checked={pinned} onChange={(e) => setPinned(e.target.checked)} /> Always run version{' '}
          {version} (otherwise the latest version when it fires)
        </label>
        <Field label="When a run is due while the last one is still open" errors={errors.overlap}>
          {(control) => (
            <select
              {...control}
              className="input"
              value={overlap}
              onChange={(e) => setOverlap(e.target.value as ScheduleOverlap)}
            >
              {OVERLAPS.map((item) => (
                <option key={item.value} value={item.value}>
                  {item.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {inputs.map((input) => (
          <Field
            key={input.name}
            label={input.name}
            required={input.required ?? true}
            hint={input.description || undefined}
            errors={errors[input.name]}
          >
            {(control) => (
              <input
                {...control}
                className="input"
                value={values[input.name] ?? ''}
                onChange={(e) => setValues({ ...values, [input.name]: e.target.value })}
              />
            )}
          </Field>
        ))}
        <label>
          <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.target.checked)} /> Start paused
        </label>
        <DialogActions errors={errors['']} busy={busy} submitLabel="Create schedule" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
