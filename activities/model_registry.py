"""Model configs, resolved by name each time a step runs.

A plan names a model config; only the worker ever holds the config itself, key
included. Resolving on every attempt means a fixed key or endpoint takes effect
on the next attempt, and no secret ever enters a Temporal payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, SecretStr

from db.model_configs import ModelPrices

# How agents call tools with this model: "auto" asks litellm's model map (an unknown
# model, such as one behind a custom api_base, gets the ReAct text format).
FunctionCalling = Literal["auto", "native", "react"]


class ModelConfig(BaseModel):
    name: str
    # A litellm model string: openai/…, anthropic/…, deepseek/…, ollama/…, gemini/…,
    # databricks/…, or openai/<any> with an OpenAI-compatible api_base.
    model: str
    api_base: str | None = None
    api_key: SecretStr | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    params: dict[str, Any] = {}
    function_calling: FunctionCalling = "auto"
    prices: ModelPrices | None = None
    # Limits on its calls across every worker (db/model_limits.py).
    max_concurrency: int | None = Field(default=None, ge=1)
    rpm: int | None = Field(default=None, ge=1)


class UnknownModel(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown model config '{name}'")
        self.name = name


class ModelRegistry(Protocol):
    async def resolve(self, name: str, workspace: str = "default") -> ModelConfig: ...

    async def names(self) -> set[str]: ...


class StaticModelRegistry:
    """Configs held in memory: for tests, and for a worker configured by settings alone."""

    def __init__(self, configs: Mapping[str, ModelConfig] | None = None) -> None:
        self._configs = dict(configs or {})

    def put(self, config: ModelConfig) -> None:
        self._configs[config.name] = config

    async def resolve(self, name: str, workspace: str = "default") -> ModelConfig:
        """The config named ``name``; one registry in memory serves every workspace."""
        try:
            return self._configs[name]
        except KeyError:
            raise UnknownModel(name) from None

    async def names(self) -> set[str]:
        return set(self._configs)
