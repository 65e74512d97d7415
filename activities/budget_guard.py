"""Stopping a step before the LLM call that would cross its run's budget.

Before each call the step compares what its execution has spent, plus the call's worst
case (its prompt's tokens, and ``max_tokens`` of completion, at the model's prices),
with its allowance (workflows/engine/budget.py), and what its attempt spent, plus the
worst case, with what is left of its workspace's monthly cap (db/monthly_budget.py, read
when the attempt starts). Only when the call would not fit does
it ask the run for more, with the ``request_allowance`` update. When the run cannot give
enough, the step stops before calling: a non-retryable ``BudgetExceeded`` whose details
carry the attempt and what the execution spent, and the step pauses with reason budget.
So a run overspends by at most one call's estimate error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import litellm
from temporalio.exceptions import ApplicationError

from activities.model_registry import ModelConfig
from activities.pricing import call_cost_micros
from db.model_configs import ModelPrices
from workflows.task_activity import BUDGET_EXCEEDED
from workflows.task_step import Allowance, TokenUsage

if TYPE_CHECKING:
    from activities.llm_manager import Transcript

# A completion's worst case when the model config sets no max_tokens.
DEFAULT_MAX_COMPLETION_TOKENS = 4096

AskForMore = Callable[[Allowance], Coroutine[Any, Any, Allowance | None]]


class BudgetGuard:
    def __init__(
        self,
        allowance: Allowance | None,
        ask_for_more: AskForMore,
        *,
        monthly_left: int | None,
        model: str,
        prices: ModelPrices | None,
        max_completion_tokens: int | None,
        attempt: int,
    ) -> None:
        self.allowance = allowance
        self._ask_for_more = ask_for_more
        self._monthly_left = monthly_left
        self._model = model
        self._prices = prices
        self._max_completion = max_completion_tokens or DEFAULT_MAX_COMPLETION_TOKENS
        self._attempt = attempt

    async def before_call(self, messages: list[dict[str, Any]], calls: Transcript) -> None:
        """Return when the call fits the allowance (asking for more if need be) and the
        workspace's month; raise ``BudgetExceeded`` when it cannot."""
        worst = self.worst_case(messages)
        spent = calls.usage
        if self._monthly_left is not None:
            if calls.made_cost_micros + worst.cost_micros > self._monthly_left:
                raise self._stop(spent, "the workspace's monthly budget (PUT /api/v1/budget)")
        if self.allowance is None:
            return
        needed = self._beyond(self.allowance, spent + worst)
        if needed is None:
            return
        self.allowance = await self._ask_for_more(needed) or self.allowance
        if self._beyond(self.allowance, spent + worst) is not None:
            raise self._stop(spent, "the run's budget")

    def _stop(self, spent: TokenUsage, which: str) -> ApplicationError:
        return ApplicationError(
            f"the next LLM call could cross {which}: raise it, then retry",
            self._attempt,
            spent.model_dump(),
            type=BUDGET_EXCEEDED,
            non_retryable=True,
        )

    def worst_case(self, messages: list[dict[str, Any]]) -> TokenUsage:
        prompt = litellm.token_counter(model=self._model, messages=messages)
        usage = TokenUsage(
            prompt_tokens=prompt,
            completion_tokens=self._max_completion,
            total_tokens=prompt + self._max_completion,
        )
        return usage.model_copy(update={"cost_micros": call_cost_micros(self._prices, usage)})

    @staticmethod
    def _beyond(allowance: Allowance, total: TokenUsage) -> Allowance | None:
        """How much more than the allowance ``total`` needs; None when it fits."""
        cost = _over(allowance.cost_micros, total.cost_micros)
        tokens = _over(allowance.tokens, total.total_tokens)
        if cost is None and tokens is None:
            return None
        return Allowance(cost_micros=cost or 0, tokens=tokens or 0)


def _over(limit: int | None, total: int) -> int | None:
    if limit is None or total <= limit:
        return None
    return total - limit


def max_completion_tokens(config: ModelConfig) -> int | None:
    """The completion's limit the config sets, if any: its worst case."""
    for limit in (config.max_tokens, config.params.get("max_tokens")):
        if isinstance(limit, int) and limit > 0:
            return limit
    return None


def on_loop(loop: asyncio.AbstractEventLoop, ask: AskForMore) -> AskForMore:
    """``ask`` run on ``loop`` (the activity's, where its Temporal client lives) from
    CrewAI's loop."""

    async def asked(needed: Allowance) -> Allowance | None:
        future: Future[Allowance | None] = asyncio.run_coroutine_threadsafe(ask(needed), loop)
        return await asyncio.wrap_future(future)

    return asked
