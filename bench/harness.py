"""What every benchmark needs: a Temporal dev server, a stub LLM and a blob store."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("HOME", tempfile.mkdtemp(prefix="kasal-bench-home-"))
from kasal.environment import quiet_crewai

quiet_crewai()

from pydantic import SecretStr  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from activities.model_registry import ModelConfig, StaticModelRegistry  # noqa: E402
from db.blobs import BlobStore  # noqa: E402
from db.migrate import upgrade_to_head  # noqa: E402
from db.session import create_engine, session_factory  # noqa: E402
from kasal.binaries import temporal_cli  # noqa: E402
from tests.stub_llm import StubLLM  # noqa: E402
from workflows.compiler import compile_plan  # noqa: E402
from workflows.plan import Plan  # noqa: E402
from workflows.search_attributes import ALL_KEYS  # noqa: E402


@dataclass
class Bench:
    env: WorkflowEnvironment
    stub: StubLLM
    models: StaticModelRegistry
    blobs: BlobStore
    database_url: str


@asynccontextmanager
async def bench_stack() -> AsyncIterator[Bench]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        data_converter=pydantic_data_converter,
        search_attributes=ALL_KEYS,
    )
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='kasal-bench-')}/kasal.db"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    with StubLLM() as stub:
        models = StaticModelRegistry(
            {
                "stub": ModelConfig(
                    name="stub", model="openai/stub", api_base=stub.url, api_key=SecretStr("k")
                )
            }
        )
        try:
            yield Bench(env, stub, models, BlobStore(session_factory(engine)), url)
        finally:
            await engine.dispose()
            await env.shutdown()


AGENT = {"id": "w", "role": "Writer", "goal": "Write", "backstory": "Writes.", "llm": "stub"}


def plan_of(steps: list[tuple[str, list[str]]], max_parallel: int = 16) -> Plan:
    """A plan of task steps, given as (id, after); each step's prompt holds STEP-<ID>."""
    definition: dict[str, Any] = {
        "agents": [AGENT],
        "steps": [
            {
                "id": step_id,
                "type": "task",
                "agent": AGENT["id"],
                "description": f"STEP-{step_id.upper()}",
                "expected_output": "x",
                "after": after,
            }
            for step_id, after in steps
        ],
        "max_parallel": max_parallel,
    }
    return compile_plan(definition, {}, {"stub"})


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
