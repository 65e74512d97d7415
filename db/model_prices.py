"""Whether, and at what price, a model's calls are priced: a config's own prices, else
litellm's price map (run offline: ``LITELLM_LOCAL_MODEL_COST_MAP``), and nothing for a
model on this machine. The worker prices each call with it; the API refuses a cost
budget for a run whose models have no price.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from db.model_configs import ModelPrices
from workflows.task_step import MICROS_PER_USD

FREE = ModelPrices(input_per_mtok=0, output_per_mtok=0)
# Providers that serve models on the caller's own machine.
LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "llamafile", "lm_studio"})


def known_prices(
    model: str, api_base: str | None, prices: ModelPrices | dict[str, Any] | None
) -> ModelPrices | None:
    """The prices of a config's calls; None when nobody knows what they cost."""
    if prices is not None:
        return prices if isinstance(prices, ModelPrices) else ModelPrices.model_validate(prices)
    from_map = _from_price_map(model)
    if from_map is not None:
        return from_map
    return FREE if is_local(model, api_base) else None


def is_local(model: str, api_base: str | None) -> bool:
    """A model served on this machine: a local provider, or an api_base on loopback."""
    if model.partition("/")[0] in LOCAL_PROVIDERS:
        return True
    host = urlsplit(api_base or "").hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Once per model and process: the map is litellm's local copy, read offline, and a model
# it lacks takes litellm's every fallback to say so (the worker asks for each attempt).
@functools.lru_cache(maxsize=256)
def _from_price_map(model: str) -> ModelPrices | None:
    # Imported here: litellm takes seconds to import, and the API needs it only to price.
    import litellm

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
