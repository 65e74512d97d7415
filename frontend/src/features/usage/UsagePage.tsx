import { lazy, Suspense, useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { UsageGroupBy, UsageReport, UsageRow } from '../../api/types';
import { type Column, ListTable } from '../../components/ListTable';
import { formatCount, formatTokens, formatUsd } from '../../lib/usage-format';
import { MonthlyBudgetPanel } from './MonthlyBudgetPanel';

const UsageCharts = lazy(() => import('./UsageCharts').then((module) => ({ default: module.UsageCharts })));

const GROUPS: { value: UsageGroupBy; label: string; column: string }[] = [
  { value: 'day', label: 'Day', column: 'Day (UTC)' },
  { value: 'workflow', label: 'Workflow', column: 'Workflow' },
  { value: 'model', label: 'Model', column: 'Model' },
];
const DEFAULT_DAYS = 30;

/** A UTC day as the API takes it: YYYY-MM-DD. */
function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function lastDays(days: number, now = new Date()): { from: string; to: string } {
  const from = new Date(now.getTime() - (days - 1) * 86_400_000);
  return { from: utcDay(from), to: utcDay(now) };
}

/**
 * The workspace's monthly budget, then tokens and cost of its LLM calls by day, by workflow
 * or by model, drawn and as a CSV file.
 */
export function UsagePage() {
  const [groupBy, setGroupBy] = useState<UsageGroupBy>('day');
  const [span, setSpan] = useState(() => lastDays(DEFAULT_DAYS));
  const [report, setReport] = useState<UsageReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    setError(null);
    api
      .getUsage({ ...span, group_by: groupBy })
      .then((loaded) => current && setReport(loaded))
      .catch((e: unknown) => current && setError(errorMessage(e)));
    return () => {
      current = false;
    };
  }, [groupBy, span]);

  const group = GROUPS.find((g) => g.value === groupBy)!;
  const columns: Column<UsageRow>[] = [
    { header: group.column, className: groupBy === 'day' ? 'mono' : undefined, cell: (row) => row.name },
    { header: 'Prompt tokens', className: 'num', cell: (row) => formatCount(row.prompt_tokens) },
    { header: 'Cached tokens', className: 'num', cell: (row) => formatCount(row.cached_tokens) },
    { header: 'Completion tokens', className: 'num', cell: (row) => formatCount(row.completion_tokens) },
    { header: 'Total tokens', className: 'num', cell: (row) => formatCount(row.total_tokens) },
    { header: 'LLM calls', className: 'num', cell: (row) => formatCount(row.llm_calls) },
    { header: 'Cost', className: 'num', cell: (row) => formatUsd(row.cost_micros) },
  ];
  const shown = report && report.group_by === groupBy ? report : null;

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">Usage</h1>
        <a className="btn btn--secondary" href={api.usageCsvUrl({ ...span, group_by: groupBy })} download>
          Download CSV
        </a>
      </header>
      <MonthlyBudgetPanel />
      <form className="usage-controls" onSubmit={(e) => e.preventDefault()}>
        <fieldset className="segmented">
          <legend>Group by</legend>
          {GROUPS.map((g) => (
            <label key={g.value}>
              <input type="radio" name="group_by" value={g.value} checked={groupBy === g.value} onChange={() => setGroupBy(g.value)} />
              {g.label}
            </label>
          ))}
        </fieldset>
        <label>
          From
          <input
            className="input"
            type="date"
            value={span.from}
            max={span.to}
            onChange={(e) => e.target.value && setSpan((s) => ({ ...s, from: e.target.value }))}
          />
        </label>
        <label>
          To
          <input
            className="input"
            type="date"
            value={span.to}
            min={span.from}
            onChange={(e) => e.target.value && setSpan((s) => ({ ...s, to: e.target.value }))}
          />
        </label>
      </form>
      {shown && (
        <>
          <p className="usage-total" aria-label="Total">
            {formatTokens(shown.total.total_tokens)} tokens · {formatUsd(shown.total.cost_micros)} · {formatCount(shown.total.llm_calls)} LLM calls, from{' '}
            {shown.from} to {shown.to} (UTC)
          </p>
          <Suspense fallback={<p className="muted">Loading charts…</p>}>
            <UsageCharts items={shown.items} />
          </Suspense>
        </>
      )}
      <ListTable
        items={shown ? shown.items : null}
        error={error}
        columns={columns}
        rowKey={(row) => row.key}
        empty="No LLM calls in this span."
      />
    </div>
  );
}
