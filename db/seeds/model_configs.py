"""Model configs to seed: the bundled local model, and one per provider with a key set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SeedModel:
    name: str
    model: str
    api_base: str | None = None
    api_key: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


def local_model(api_base: str) -> SeedModel:
    # A low temperature and a cap keep a 135M model on topic and quick.
    return SeedModel(
        "local", "openai/smollm2-135m-instruct", api_base, temperature=0.2, max_tokens=512
    )


def provider_models(env: Mapping[str, str]) -> list[SeedModel]:
    """A config for each provider whose credentials are in the environment."""
    seeds = []
    simple = [
        ("openai", "OPENAI_API_KEY", "openai/gpt-4o-mini"),
        ("anthropic", "ANTHROPIC_API_KEY", "anthropic/claude-3-5-haiku-latest"),
        ("deepseek", "DEEPSEEK_API_KEY", "deepseek/deepseek-chat"),
        ("gemini", "GEMINI_API_KEY", "gemini/gemini-2.0-flash"),
    ]
    for name, variable, model in simple:
        if env.get(variable):
            seeds.append(SeedModel(name, model, api_key=env[variable]))
    if env.get("DATABRICKS_HOST") and env.get("DATABRICKS_TOKEN"):
        host = env["DATABRICKS_HOST"].rstrip("/")
        if not host.startswith("http"):
            host = f"https://{host}"
        seeds.append(
            SeedModel(
                "databricks",
                "databricks/databricks-meta-llama-3-3-70b-instruct",
                f"{host}/serving-endpoints",
                env["DATABRICKS_TOKEN"],
            )
        )
    if env.get("OLLAMA_HOST"):
        host = env["OLLAMA_HOST"]
        seeds.append(
            SeedModel("ollama", "ollama/llama3.2", host if "://" in host else f"http://{host}")
        )
    return seeds
