"""What an LLM call costs: the model config's own prices, else litellm's price map (run
offline: ``LITELLM_LOCAL_MODEL_COST_MAP``), and nothing for a model on this machine.

A price in USD per million tokens is a price in micro-dollars per token, so a call's
cost in micro-dollars is its token counts times the prices, rounded once per call.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import litellm

from activities.model_registry import ModelConfig
from db.model_configs import ModelPrices
from workflows.task_step import MICROS_PER_USD, TokenUsage

FREE = ModelPrices(input_per_mtok=0, output_per_mtok=0)
# Providers that serve models on the caller's own machine.
LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "llamafile", "lm_studio"})


def prices_of(config: ModelConfig) -> ModelPrices | None:
    """The config's prices; None when nobody knows what its calls cost."""
    if config.prices is not None:
        return config.prices
    from_map = _from_price_map(config.model)
    if from_map is not None:
        return from_map
    return FREE if is_local(config) else None


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


def is_local(config: ModelConfig) -> bool:
    """A model served on this machine: a local provider, or an api_base on loopback."""
    if config.model.partition("/")[0] in LOCAL_PROVIDERS:
        return True
    host = urlsplit(config.api_base or "").hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _from_price_map(model: str) -> ModelPrices | None:
    try:
        info = litellm.get_model_info(model)
    except Exception:  # ModelNotMappedError, or a bare Exception from some providers
        return None
    prompt, completion = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    if prompt is None or completion is None:
        return None
    cached = info.get("cache_read_input_token_cost")
    return ModelPrices(
        input_per_mtok=prompt * MICROS_PER_USD,
        output_per_mtok=completion * MICROS_PER_USD,
        cached_per_mtok=None if cached is None else cached * MICROS_PER_USD,
    )
