"""Request and response bodies for model configs. The API key is write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator

ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]


class ModelConfigBase(BaseModel):
    model: str = Field(min_length=1, max_length=300, description="A litellm model string")
    api_base: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    params: dict[str, Any] = {}


class ModelConfigCreate(ModelConfigBase):
    name: ModelName
    api_key: str | None = None


class ModelConfigUpdate(BaseModel):
    """All fields optional. ``api_key`` omitted keeps the key; ``null`` clears it."""

    model: str | None = Field(default=None, min_length=1, max_length=300)
    api_base: str | None = None
    api_key: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    params: dict[str, Any] | None = None

    @field_validator("model")
    @classmethod
    def _model_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("model cannot be null")
        return value


class ModelConfigRead(ModelConfigBase):
    name: str
    has_api_key: bool
    created_at: datetime
    updated_at: datetime
