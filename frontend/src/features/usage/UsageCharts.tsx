/** Tokens and cost per group as bar charts (recharts), loaded with the usage page only. */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { UsageRow } from '../../api/types';
import { formatTokens, formatUsd } from '../../lib/usage-format';

const HEIGHT = 260;

export function UsageCharts({ items }: { items: UsageRow[] }) {
  // Cost is charted in micro-dollars, exact, and read as dollars on the axis and in the tooltip.
  const rows = items.map((item) => ({ ...item, uncached: item.prompt_tokens - item.cached_tokens }));
  return (
    <div className="usage-charts">
      <figure className="usage-chart" aria-label="Tokens per group">
        <figcaption className="section-title">Tokens</figcaption>
        <ResponsiveContainer width="100%" height={HEIGHT}>
          <BarChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="name" tick={{ fontSize: 12 }} />
            <YAxis tickFormatter={(value: number) => formatTokens(value)} width={56} />
            <Tooltip formatter={(value) => formatTokens(Number(value))} />
            <Legend />
            <Bar dataKey="uncached" name="Prompt" stackId="tokens" fill="var(--chart-prompt, #4f7cff)" />
            <Bar dataKey="cached_tokens" name="Cached prompt" stackId="tokens" fill="var(--chart-cached, #9bb4ff)" />
            <Bar dataKey="completion_tokens" name="Completion" stackId="tokens" fill="var(--chart-completion, #f2a33a)" />
          </BarChart>
        </ResponsiveContainer>
      </figure>
      <figure className="usage-chart" aria-label="Cost per group">
        <figcaption className="section-title">Cost (USD)</figcaption>
        <ResponsiveContainer width="100%" height={HEIGHT}>
          <BarChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="name" tick={{ fontSize: 12 }} />
            <YAxis tickFormatter={(value: number) => formatUsd(value)} width={72} />
            <Tooltip formatter={(value) => formatUsd(Number(value))} />
            <Bar dataKey="cost_micros" name="Cost" fill="var(--chart-cost, #2f9e6e)" />
          </BarChart>
        </ResponsiveContainer>
      </figure>
    </div>
  );
}
