"""Tools as a CrewAI agent sees them, each call journaled, replayed on retry and kept in
the step's transcript.

CrewAI calls a tool from one of its threads. The call itself (HTTP, MCP, the blob
store) runs on the activity's event loop, where its connections live, and the thread
waits for it, as KasalLLM's calls do.

A tool that is not idempotent gets an intent in the journal before it is called. A
retried attempt that finds the intent without a result does not call again: the effect
may or may not have happened, and the agent is told exactly that.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from crewai.tools import BaseTool
from crewai.utilities.pydantic_schema_utils import create_model_from_schema
from pydantic import BaseModel, PrivateAttr

from activities.journal import StepJournal
from activities.llm_manager import Transcript
from activities.metrics import record_tool_call
from activities.tools.handle import ToolError, ToolHandle
from activities.tracing import traced_tool_call
from db.call_journal import DONE
from workflows.task_step import ToolCall
from workflows.tools import model_tool_name

OUTCOME_UNKNOWN = (
    "The outcome of this call is unknown: an earlier attempt of this step started it and "
    "stopped before it reported back, so it may or may not have taken effect. It was not "
    "made again. Do not repeat it blindly; check its effect another way, or say so."
)


class JournaledTool(BaseTool):
    _handle: ToolHandle = PrivateAttr()
    _journal: StepJournal = PrivateAttr()
    _transcript: Transcript = PrivateAttr()
    _loop: asyncio.AbstractEventLoop = PrivateAttr()
    _in_flight: set[Future[str]] = PrivateAttr(default_factory=set)

    def _run(self, **arguments: Any) -> str:
        future = asyncio.run_coroutine_threadsafe(self.call(arguments), self._loop)
        self._in_flight.add(future)
        try:
            return future.result()
        finally:
            self._in_flight.discard(future)

    def cancel_in_flight(self) -> None:
        """Abandon the calls a cancelled step started (see StepJournal.close)."""
        for future in list(self._in_flight):
            future.cancel()

    async def _arun(self, **arguments: Any) -> str:
        return await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(self.call(arguments), self._loop)
        )

    async def call(self, arguments: dict[str, Any]) -> str:
        self._journal.check_open()
        info = self._handle.info
        key = self._journal.tool_key({"tool": info.name, "arguments": arguments})
        found = await self._journal.find(key)
        if found is not None and found.status == DONE and found.record is not None:
            entry = ToolCall.model_validate(found.record).model_copy(update={"replayed": True})
            self._transcript.add(entry, key, replayed=True)
            return _for_agent(entry)
        started_at, clock = datetime.now(UTC), time.perf_counter()
        if found is not None:  # an intent, and no result: the call may have happened
            entry = ToolCall(
                tool=info.name,
                arguments=arguments,
                error="outcome unknown",
                latency_ms=0,
                started_at=started_at,
            )
            self._transcript.add(entry, key)
            return OUTCOME_UNKNOWN
        if not info.idempotent:
            intent = ToolCall(
                tool=info.name, arguments=arguments, latency_ms=0, started_at=started_at
            )
            await self._journal.intend(key, intent.model_dump(mode="json"))
        output, error = None, None
        try:
            output = self._journal.scrub(
                await traced_tool_call(info.name, self._handle.call(arguments))
            )
        except ToolError as exc:
            error = self._journal.scrub(str(exc))
        except Exception as exc:  # whatever the tool raised, the agent reads it and goes on
            error = self._journal.scrub(f"{type(exc).__name__}: {exc}")
        entry = ToolCall(
            tool=info.name,
            arguments=arguments,
            output=output,
            error=error,
            latency_ms=round((time.perf_counter() - clock) * 1000, 1),
            started_at=started_at,
        )
        await self._journal.record(key, entry.model_dump(mode="json"))
        self._transcript.add(entry, key)
        record_tool_call(info.name)
        return _for_agent(entry)


def _for_agent(entry: ToolCall) -> str:
    if entry.error is not None:
        return f"Tool error: {entry.error}"
    return entry.output or ""


def agent_tools(
    handles: list[ToolHandle],
    journal: StepJournal,
    transcript: Transcript,
    loop: asyncio.AbstractEventLoop,
) -> list[JournaledTool]:
    tools: list[JournaledTool] = []
    for handle in handles:
        info = handle.info
        schema: type[BaseModel] = create_model_from_schema(
            info.args_schema or {"type": "object", "properties": {}},
            model_name=f"{model_tool_name(info.name)}_arguments",
        )
        tool = JournaledTool(
            name=model_tool_name(info.name), description=info.description, args_schema=schema
        )
        tool._handle, tool._journal, tool._transcript, tool._loop = (
            handle,
            journal,
            transcript,
            loop,
        )
        tools.append(tool)
    return tools
