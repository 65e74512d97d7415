"""Request and response bodies for model configs. The API key is write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from db.model_configs import ModelPrices

ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]


def _a_json_number(value: Any) -> Any:
    """As the schema says: a number is a number, not `true` nor the text "5"."""
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


FunctionCalling = Literal["auto", "native", "react"]

Temperature = Annotated[float, Ge(0), Le(2), BeforeValidator(_a_json_number)]
CallLimit = Annotated[int, Ge(1), Le(1_000_000), BeforeValidator(_a_json_number)]
MaxTokens = Annotated[int, Ge(1), BeforeValidator(_a_json_number)]


class ModelConfigBase(BaseModel):
    model: str = Field(min_length=1, max_length=300, description="A litellm model string")
    api_base: str | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None
    params: dict[str, Any] = {}
    function_calling: FunctionCalling = Field(
        default="auto",
        description=(
            "How agents call tools with this model: native function calls, the ReAct text "
            "format, or auto (litellm's model map decides; an unknown model gets ReAct)"
        ),
    )
    prices: ModelPrices | None = Field(
        default=None,
        description=(
            "USD per million tokens; they win over litellm's price map. Without them a "
            "model litellm does not know costs 0 when it runs on this machine, and is "
            "unpriced otherwise"
        ),
    )
    max_concurrency: CallLimit | None = Field(
        default=None, description="At most this many calls in flight, across every worker"
    )
    rpm: CallLimit | None = Field(
        default=None, description="At most this many calls started a minute, across every worker"
    )


class ModelConfigCreate(ModelConfigBase):
    name: ModelName
    api_key: str | None = None


class ModelConfigUpdate(BaseModel):
    """All fields optional. ``api_key`` omitted keeps the key; ``null`` clears it."""

    # Omitted keeps the model; null is refused, as a string that is not nullable is.
    model: str = Field(default=None, min_length=1, max_length=300)  # type: ignore[assignment]
    api_base: str | None = None
    api_key: str | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None
    params: dict[str, Any] | None = None
    function_calling: FunctionCalling = Field(default=None)  # type: ignore[assignment]
    prices: ModelPrices | None = None
    max_concurrency: CallLimit | None = None
    rpm: CallLimit | None = None


class ModelConfigRead(ModelConfigBase):
    name: str
    has_api_key: bool
    created_at: datetime
    updated_at: datetime
