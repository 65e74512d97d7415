"""What an LLM call costs: the model config's own prices, else litellm's price map (run
offline: ``LITELLM_LOCAL_MODEL_COST_MAP``), and nothing for a model on this machine.

A price in USD per million tokens is a price in micro-dollars per token, so a call's
cost in micro-dollars is its token counts times the prices, rounded once per call.
"""

from __future__ import annotations

from activities.model_registry import ModelConfig
from db.model_configs import ModelPrices
from db.model_prices import known_prices
from workflows.task_step import TokenUsage


def prices_of(config: ModelConfig) -> ModelPrices | None:
    """The config's prices; None when nobody knows what its calls cost."""
    return known_prices(config.model, config.api_base, config.prices)


def call_cost_micros(prices: ModelPrices | None, usage: TokenUsage) -> int:
    """One call's cost; an unpriced model's calls are counted as 0."""
    if prices is None:
        return 0
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cached_price = (
        prices.input_per_mtok if prices.cached_per_mtok is None else prices.cached_per_mtok
    )
    return round(
        (usage.prompt_tokens - cached) * prices.input_per_mtok
        + cached * cached_price
        + usage.completion_tokens * prices.output_per_mtok
    )
