"""A run's budget at its start: the definition's and the request's limits, the stricter
of each, and a cost limit only for models whose calls have a price (db/model_prices.py)."""

from __future__ import annotations

from api.egress import refuse
from db.model_prices import known_prices
from db.uow import UnitOfWork
from workflows.definition import BudgetSpec
from workflows.plan import Plan
from workflows.plan_building import budget_limits


async def with_budget(uow: UnitOfWork, plan: Plan, requested: BudgetSpec | None) -> Plan:
    """``plan`` under the stricter limits; 422 for a cost limit on an unpriced model."""
    asked = budget_limits(requested)
    budget = plan.budget.stricter(asked) if plan.budget else asked
    if budget is not None and budget.max_cost_micros is not None:
        await _refuse_unpriced(uow, plan, requested)
    return plan.model_copy(update={"budget": budget})


async def _refuse_unpriced(uow: UnitOfWork, plan: Plan, requested: BudgetSpec | None) -> None:
    from_request = requested is not None and requested.max_cost_usd is not None
    loc = ["body", "budget", "max_cost_usd"] if from_request else ["definition", "budget"]
    unpriced: list[str] = []
    async with uow:
        for name in sorted({agent.llm for agent in plan.agents.values()}):
            row = await uow.model_configs.get(name)
            if row is None or known_prices(row.model, row.api_base, row.prices) is None:
                unpriced.append(name)
    refuse(
        [
            {
                "type": "unpriced_model",
                "loc": loc,
                "msg": f"model config '{name}' has no price, so a cost budget cannot hold: "
                "give it prices, or budget tokens (max_tokens) instead",
                "input": name,
            }
            for name in unpriced
        ]
    )
