"""Smoke: a one-task workflow on the bundled SmolLM2 model, served over HTTP by llama.cpp."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict

import pytest
from temporalio.client import Client

from activities.local_model import LocalModelServer
from activities.model_registry import ModelConfig, StaticModelRegistry
from db.blobs import BlobStore
from db.seeds.model_configs import local_model as seeded_local_model
from tests.conftest import free_port
from worker.main import build_worker
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.compiler import compile_plan
from workflows.engine.state import AgentWorkflowV2Input

LOCAL_MODEL_NAME = "local"


@pytest.fixture(scope="module")
def local_model() -> Iterator[LocalModelServer]:
    with LocalModelServer(free_port()) as server:
        yield server


async def test_one_task_on_the_local_model_completes_with_an_answer(
    client: Client, local_model: LocalModelServer, blob_store: BlobStore
) -> None:
    definition = {
        "inputs": [{"name": "topic"}],
        "agents": [
            {
                "id": "writer",
                "role": "Writer",
                "goal": "Explain things simply",
                "backstory": "You write short, clear answers.",
                "llm": LOCAL_MODEL_NAME,
            }
        ],
        "steps": [
            {
                "id": "explain",
                "type": "task",
                "agent": "writer",
                "description": "Explain {topic} in two sentences.",
                "expected_output": "Two sentences.",
            }
        ],
    }
    plan = compile_plan(definition, {"topic": "why the sky is blue"}, {LOCAL_MODEL_NAME})
    config = ModelConfig(**asdict(seeded_local_model(local_model.api_base)))
    models = StaticModelRegistry({LOCAL_MODEL_NAME: config})
    worker = build_worker(client, f"kasal-local-{uuid.uuid4()}", models, blob_store, 10)
    async with worker:
        result = await client.execute_workflow(
            AgentWorkflowV2.run,
            AgentWorkflowV2Input(plan=plan),
            id=f"local-{uuid.uuid4()}",
            task_queue=worker.task_queue,
        )

    [step] = result.steps
    assert step.status == "completed"
    assert result.final_output.strip()  # the wording of a 135M model is not asserted
    assert step.usage is not None and step.usage.completion_tokens > 0
