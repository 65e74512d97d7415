"""A run's budget, shared by its parallel steps through allowances (README, "Budgets").

The run holds its limits and what each running step was allowed. A step starts with an
allowance (a share of each limit, below, or what is left when that is less) and spends
from it without asking; only when a call would not fit does it ask the run for more (an
update), and it gets the larger of what it asked and another share.
What a step was allowed is reserved for it until it ends, when the run counts what it
spent and the rest goes back. So two branches can never spend the same last dollar:
together they were never allowed more than the budget minus what was already spent.

A request is granted whole or not at all: a part would not let the call start, and would
only keep the part from steps that could use it. A step's first allowance is a share of
each limit that every step the run can have running at once can hold (a tenth, or less
when more than ten can run): a step that starts while its siblings hold the budget must not
find nothing left and pause, with the budget reserved but not spent.
"""

from __future__ import annotations

from workflows.engine.state import RunData
from workflows.plan import BudgetLimits
from workflows.task_step import Allowance

# A step's first allowance, and the least extra it is given: one over this many of each
# limit, or over the number of steps the run can have running at once when that is more.
ALLOWANCE_SHARE = 10


def allowed(run: RunData, step_id: str) -> Allowance | None:
    """What the step may spend so far; None for a run without a budget."""
    if run.budget is None:
        return None
    return run.allowances.get(step_id, Allowance(cost_micros=0, tokens=0))


def grant_first(run: RunData, step_id: str, width: int) -> Allowance | None:
    """A starting step's allowance, in a run where ``width`` steps can run at once."""
    if run.budget is None:
        return None
    run.allowances[step_id] = Allowance(cost_micros=0, tokens=0)
    return grant_more(run, step_id, Allowance(cost_micros=0, tokens=0), width)


def grant_more(run: RunData, step_id: str, needed: Allowance, width: int) -> Allowance:
    """The step's allowance after asking for ``needed`` more: nothing unless what is left
    covers it, else up to the larger of what it asked and a share."""
    assert run.budget is not None
    shares = max(ALLOWANCE_SHARE, width)
    limits, held = run.budget, run.allowances.get(step_id, Allowance(cost_micros=0, tokens=0))
    free = _free(run)
    if not covers(free, needed):
        return held
    cost = _more(limits.max_cost_micros, needed.cost_micros, free.cost_micros, shares)
    tokens = _more(limits.max_tokens, needed.tokens, free.tokens, shares)
    grown = Allowance(
        cost_micros=None if cost is None else (held.cost_micros or 0) + cost,
        tokens=None if tokens is None else (held.tokens or 0) + tokens,
    )
    run.allowances[step_id] = grown
    return grown


def release(run: RunData, step_id: str) -> None:
    """The step ended: what it spent is in its usage, the rest is free again."""
    run.allowances.pop(step_id, None)


def raise_limits(run: RunData, limits: BudgetLimits) -> None:
    """An operator's new limits; each one given replaces the run's."""
    current = run.budget or BudgetLimits()
    run.budget = BudgetLimits(
        max_cost_micros=limits.max_cost_micros
        if limits.max_cost_micros is not None
        else current.max_cost_micros,
        max_tokens=limits.max_tokens if limits.max_tokens is not None else current.max_tokens,
    )


def covers(free: Allowance, needed: Allowance) -> bool:
    """Whether ``free`` holds ``needed`` in each limited measure (None: unlimited)."""
    return all(
        have is None or (want or 0) <= have
        for have, want in ((free.cost_micros, needed.cost_micros), (free.tokens, needed.tokens))
    )


def _free(run: RunData) -> Allowance:
    """The budget no step holds and none has spent."""
    assert run.budget is not None
    spent = run.usage()
    held_cost = sum(a.cost_micros or 0 for a in run.allowances.values())
    held_tokens = sum(a.tokens or 0 for a in run.allowances.values())
    limits = run.budget
    return Allowance(
        cost_micros=None
        if limits.max_cost_micros is None
        else max(0, limits.max_cost_micros - spent.cost_micros - held_cost),
        tokens=None
        if limits.max_tokens is None
        else max(0, limits.max_tokens - spent.total_tokens - held_tokens),
    )


def _more(limit: int | None, needed: int | None, free: int | None, shares: int) -> int | None:
    if limit is None or free is None:
        return None
    share = max(1, limit // shares)
    return min(free, max(needed or 0, share))
