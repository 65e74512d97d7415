"""Turning stored model-config rows into the config a step runs with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator

from db.models import ModelConfigRow
from db.secrets import SecretBox

# The litellm completion parameters a config's ``params`` may set: sampling and output
# shape only. Where a call goes and with which key (api_base, base_url, api_key,
# custom_llm_provider, extra_headers, ...) are the config's own fields or nobody's: a
# param could otherwise send every prompt, or the worker's environment keys, elsewhere.
# No timeout either: the step's own timeout bounds each call.
ALLOWED_MODEL_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "response_format",
        "reasoning_effort",
        "user",
    }
)


class ModelPrices(BaseModel):
    """A config's own prices, in USD per million tokens; they win over litellm's price map.
    Cached prompt tokens cost ``input_per_mtok`` unless ``cached_per_mtok`` says less."""

    input_per_mtok: float = Field(ge=0, allow_inf_nan=False)
    output_per_mtok: float = Field(ge=0, allow_inf_nan=False)
    cached_per_mtok: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _a_json_number(cls, value: Any) -> Any:
        """As the schema says: a price is a number, not `false` nor the text "3"."""
        if isinstance(value, bool | str):
            raise ValueError("must be a number")
        return value


def allowed_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without the names ``ALLOWED_MODEL_PARAMS`` lacks."""
    return {name: value for name, value in params.items() if name in ALLOWED_MODEL_PARAMS}


def decrypted_config(row: ModelConfigRow, box: SecretBox) -> dict[str, Any]:
    """The row as plain fields, API key decrypted: for the worker only, never for a response."""
    return {
        "name": row.name,
        "model": row.model,
        "api_base": row.api_base,
        "api_key": box.decrypt(row.api_key_encrypted) if row.api_key_encrypted else None,
        "temperature": row.temperature,
        "max_tokens": row.max_tokens,
        "params": allowed_params(row.params or {}),
        "function_calling": row.function_calling or "auto",
        "prices": row.prices,
        "max_concurrency": row.max_concurrency,
        "rpm": row.rpm,
    }
