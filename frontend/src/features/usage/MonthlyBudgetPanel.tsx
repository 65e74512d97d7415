import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { MonthlyBudget } from '../../api/types';
import { Notice } from '../../components/Notice';
import { formatUsd } from '../../lib/usage-format';
import { usePermission } from '../../stores/session-store';
import { RoleNote } from '../account/RoleNote';
import { MonthlyBudgetForm } from './MonthlyBudgetForm';

const MICROS_PER_USD = 1_000_000;

/** This month's spend against the cap, as a bar, and in words. */
function SpendMeter({ budget }: { budget: MonthlyBudget }) {
  const since = `since ${budget.month_start.slice(0, 10)}, UTC`;
  const spent = formatUsd(budget.spent_this_month_micros);
  if (budget.max_cost_usd_per_month === null) {
    return (
      <p className="monthly-budget__text">
        No monthly cap: {spent} spent this month ({since}).
      </p>
    );
  }
  const capMicros = Math.round(budget.max_cost_usd_per_month * MICROS_PER_USD);
  return (
    <>
      <progress
        className="monthly-budget__bar"
        max={capMicros}
        value={Math.min(budget.spent_this_month_micros, capMicros)}
        aria-label="Spent this month"
      />
      <p className="monthly-budget__text">
        {spent} of {formatUsd(capMicros)} spent this month ({since}).
      </p>
    </>
  );
}

/** The workspace's monthly budget: its cap and this month's spend, and for admins a way to set it. */
export function MonthlyBudgetPanel() {
  const [budget, setBudget] = useState<MonthlyBudget | null>(null);
  const [error, setError] = useState<string | null>(null);
  const setCap = usePermission('setBudget');

  useEffect(() => {
    let current = true;
    api
      .getMonthlyBudget()
      .then((loaded) => current && setBudget(loaded))
      .catch((e: unknown) => current && setError(errorMessage(e)));
    return () => {
      current = false;
    };
  }, []);

  return (
    <section className="monthly-budget" aria-labelledby="monthly-budget-title">
      <h2 className="section-title" id="monthly-budget-title">
        Monthly budget
      </h2>
      {error && <Notice>{error}</Notice>}
      {budget && <SpendMeter budget={budget} />}
      {budget && (setCap.allowed ? <MonthlyBudgetForm budget={budget} onSaved={setBudget} /> : <RoleNote reasons={[setCap.reason]} />)}
    </section>
  );
}
