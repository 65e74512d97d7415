"""Agents call tools inside the durable step, in CrewAI's ReAct text format and with
native function calls, through the real worker, the stub LLM over HTTP and the tools."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.worker import Worker

from activities.model_registry import ModelConfig, StaticModelRegistry
from db.blobs import BlobStore
from tests.conftest import STUB_API_KEY, STUB_MODEL
from tests.helpers import agent, marker, start_run, step_transcript, task
from tests.stub_llm import Reply, StubLLM
from worker.main import build_worker
from workflows.run_state import AgentWorkflowResult
from workflows.task_step import LLMCall, ToolCall

NATIVE_MODEL = "stub-native"


@pytest.fixture
async def native_worker(
    client: Client, stub_llm: StubLLM, blob_store: BlobStore
) -> AsyncIterator[Worker]:
    """A worker whose `stub-native` model config says: native function calls."""
    models = StaticModelRegistry(
        {
            NATIVE_MODEL: ModelConfig(
                name=NATIVE_MODEL,
                model="openai/stub-model",
                api_base=stub_llm.url,
                api_key=SecretStr(STUB_API_KEY),
                function_calling="native",
            ),
            STUB_MODEL: ModelConfig(
                name=STUB_MODEL,
                model="openai/stub-model",
                api_base=stub_llm.url,
                api_key=SecretStr(STUB_API_KEY),
            ),
        }
    )
    worker = build_worker(client, f"kasal-tools-{uuid.uuid4()}", models, blob_store, 20)
    async with worker:
        yield worker


def react(tool: str, arguments: dict[str, Any]) -> Reply:
    return Reply(
        f"Thought: I should use a tool.\nAction: {tool}\nAction Input: {json.dumps(arguments)}"
    )


async def transcript_of(
    blob_store: BlobStore, run_id: str, result: AgentWorkflowResult, step: str
) -> list[Any]:
    [state] = [s for s in result.steps if s.id == step]
    return await step_transcript(blob_store, run_id, state)


async def test_a_react_agent_calculates_with_a_tool_and_answers_with_its_result(
    client: Client, native_worker: Worker, stub_llm: StubLLM, blob_store: BlobStore
) -> None:
    stub_llm.script(
        marker("a"),
        react("calculate", {"expression": "6*7"}),
        Reply("Thought: I know it now.\nFinal Answer: forty-two"),
    )
    spec = {"agents": [agent(tools=["calculate"])], "steps": [task("a")]}
    handle = await start_run(client, native_worker, spec)
    result = await handle.result()

    assert result.outcome == "completed"
    [answered] = [s for s in result.steps if s.id == "a"]
    assert answered.output == "forty-two"
    first, second = stub_llm.calls(marker("a"))
    assert "calculate" in first.messages_text  # the tool is described to the model
    assert "42" in second.messages_text  # and its result goes back to it
    entries = await transcript_of(blob_store, handle.id, result, "a")
    assert [type(e) for e in entries] == [LLMCall, ToolCall, LLMCall]
    assert entries[1].tool == "calculate" and entries[1].output == "42"
    assert entries[1].arguments == {"expression": "6*7"}


async def test_a_native_agent_calls_tools_by_function_calling(
    client: Client, native_worker: Worker, stub_llm: StubLLM, blob_store: BlobStore
) -> None:
    stub_llm.script(
        marker("a"),
        Reply.calls_tools(("calculate", {"expression": "2**10"})),
        Reply("It is 1024."),
    )
    spec = {"agents": [agent(llm=NATIVE_MODEL, tools=["calculate"])], "steps": [task("a")]}
    handle = await start_run(client, native_worker, spec, models=[NATIVE_MODEL])
    result = await handle.result()

    assert result.outcome == "completed"
    first, second = stub_llm.calls(marker("a"))
    assert [t["function"]["name"] for t in first.body["tools"]] == ["calculate"]
    tool_messages = [m for m in second.body["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["1024"]
    entries = await transcript_of(blob_store, handle.id, result, "a")
    assert entries[0].tool_calls[0]["function"]["name"] == "calculate"
    assert entries[1].output == "1024"
