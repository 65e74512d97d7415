"""The LLM manager: turns a model config into a CrewAI LLM that always goes through litellm.

Every retry layer below Temporal is off (litellm's ``num_retries``, the provider
SDK's ``max_retries``), so each Temporal attempt is exactly one HTTP call per LLM
turn and every attempt is visible in the run's history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

import litellm
from crewai import LLM
from crewai.types.usage_metrics import UsageMetrics
from pydantic import PrivateAttr
from temporalio.exceptions import ApplicationError

from activities.budget_guard import BudgetGuard
from activities.call_limits import CallSlots
from activities.journal import StepJournal
from activities.live_output import CURRENT_CALL, LiveOutput
from activities.llm_stream import stream_reply
from activities.metrics import record_llm_call
from activities.model_registry import FunctionCalling, ModelConfig
from activities.pricing import call_cost_micros, prices_of
from activities.tracing import llm_span, set_llm_usage
from activities.usage_log import UsageLog
from db.call_journal import DONE
from db.model_configs import ModelPrices, allowed_params
from db.repositories.call_journal import CallKey
from workflows.task_step import CallRef, LLMCall, TokenUsage, TranscriptEntry

# CrewAI takes a reply as the result only when it carries this marker.
FINAL_ANSWER = "Final Answer:"
NO_KEY = "no-key"
PER_MILLION = 1_000_000


class Transcript:
    """What one attempt said to its LLM and its tools and heard back, call by call: the
    entries, for this attempt's result, and where each is in the call journal, which is
    what is stored."""

    def __init__(self, execution: int | None = None) -> None:
        # The step's execution: a call replayed from an earlier one (a step that stopped
        # over budget continues its journal) was reported, and paid for, by that one.
        self.execution = execution
        self.entries: list[TranscriptEntry] = []
        self.calls: list[CallRef] = []

    def add(self, entry: TranscriptEntry, key: CallKey, *, replayed: bool = False) -> None:
        self.entries.append(entry)
        self.calls.append(
            CallRef(
                kind=entry.kind,
                call_index=key.call_index,
                request_hash=key.request_hash,
                replayed=replayed,
            )
        )

    @property
    def usage(self) -> TokenUsage:
        """What the step's execution paid for, each call once: this attempt's calls and
        the calls it replayed, which earlier attempts of the execution made and paid for
        but, failing, never reported. A replay costs nothing more."""
        total = TokenUsage()
        for entry in self.entries:
            if isinstance(entry, LLMCall) and self._paid_by_this_execution(entry):
                total = total + entry.usage
        return total

    @property
    def made_cost_micros(self) -> int:
        """What the calls this attempt made (not replayed) cost."""
        return sum(
            entry.usage.cost_micros
            for entry in self.entries
            if isinstance(entry, LLMCall) and not entry.replayed
        )

    def _paid_by_this_execution(self, entry: LLMCall) -> bool:
        return not entry.replayed or entry.execution in (None, self.execution)


class KasalLLM(LLM):
    """A CrewAI LLM that journals its calls, records a transcript and copes with small
    models' replies.

    Every call is looked up in the step's call journal first: a retried attempt gets the
    answers its earlier attempts were already given (and paid for), and only calls that
    never finished are made again.

    A model with no tools to call can only answer, so a reply without CrewAI's
    "Final Answer:" marker is taken as the answer instead of being sent back as a
    format error, which small models answer with yet another malformed reply. With
    tools, a reply may be an action, and goes to CrewAI's parser as it is.
    """

    _transcript: Transcript = PrivateAttr(default_factory=Transcript)
    _journal: StepJournal = PrivateAttr()
    _usage_log: UsageLog = PrivateAttr()
    _answer_only: bool = PrivateAttr(default=True)
    _function_calling: FunctionCalling = PrivateAttr(default="auto")
    _prices: ModelPrices | None = PrivateAttr(default=None)
    _budget: BudgetGuard | None = PrivateAttr(default=None)
    _slots: CallSlots | None = PrivateAttr(default=None)
    _loop: asyncio.AbstractEventLoop | None = PrivateAttr(default=None)
    _in_flight: set[Future[Any]] = PrivateAttr(default_factory=set)
    _live: LiveOutput | None = PrivateAttr(default=None)

    # CrewAI 1.15's agent executor calls the sync ``call`` from a worker thread even on
    # its async path. That thread hands the call to the activity's event loop, so the
    # HTTP request is async (pooled, and closed at once when the step is cancelled)
    # and the thread only waits.
    #
    # CrewAI also wraps every LLM's call methods in a rate-limit retry loop of its own
    # (crewai.llms.retry). Temporal owns retries, so these methods call the unwrapped
    # originals and are marked so that CrewAI does not wrap them again.
    def call(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        loop = self._loop
        if loop is not None and loop.is_running() and not _running_on(loop):
            future = asyncio.run_coroutine_threadsafe(self.acall(messages, *args, **kwargs), loop)
            self._in_flight.add(future)
            try:
                return future.result()
            finally:
                self._in_flight.discard(future)
        # On CrewAI's loop itself, waiting for the journal would block the loop it needs.
        raise RuntimeError("KasalLLM.call ran on CrewAI's own event loop; use acall there")

    def cancel_in_flight(self) -> None:
        """Abandon LLM calls a cancelled step started: their HTTP requests close."""
        for future in list(self._in_flight):
            future.cancel()

    async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        return self._as_crewai_reply(await self._journaled_call(messages, *args, **kwargs))

    async def answer(self, messages: list[dict[str, str]]) -> str:
        """One plain completion outside the agent's turns (an output's repair), journaled
        and in the transcript like them, so a retried attempt does not pay for it twice."""
        reply = await self._journaled_call(messages)
        return reply if isinstance(reply, str) else ""

    async def _journaled_call(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        """The reply, from the journal when an earlier attempt was given it, else from
        the model: text, or a native reply's tool calls."""
        journal = self._journal
        journal.check_open()
        tools = [t.get("function", {}).get("name") for t in kwargs.get("tools") or []]
        key = journal.llm_key(
            {"model": self.model, "messages": _plain_messages(messages), "tools": tools}
        )
        found = await journal.find(key)
        if found is not None and found.status == DONE and found.record is not None:
            entry = LLMCall.model_validate(found.record).model_copy(update={"replayed": True})
            self._transcript.add(entry, key, replayed=True)
            return entry.tool_calls or entry.reply
        if self._budget is not None:
            try:
                await self._budget.before_call(_plain_messages(messages), self._transcript)
            except ApplicationError as stop:
                journal.fail(stop)  # raised by the activity whatever CrewAI makes of it
                raise
        async with self._slot():  # the model config's max_concurrency and rpm
            started = self._started()
            with llm_span(self.model) as span:
                async with self._live_call(key):
                    reply = await _unwrapped(LLM.acall)(self, messages, *args, **kwargs)
                entry = self._entry(messages, started, reply)
                set_llm_usage(span, entry)
        await self._keep(key, entry)
        self._transcript.add(entry, key)
        record_llm_call(entry)
        return reply

    async def _keep(self, key: CallKey, entry: LLMCall) -> None:
        """The call's journal record and its usage row, in one transaction: one write on
        the step's path, not two. If that fails, the two apart: the usage row first (the
        call was made and paid for, even if journaling fails), then the record, whose
        failure fails the attempt."""
        record = entry.model_dump(mode="json")
        try:
            await self._journal.record_with_usage(key, record, self._usage_log.row_of(entry))
        except Exception:
            await self._usage_log.record(entry)
            await self._journal.record(key, record)

    def _slot(self) -> AbstractAsyncContextManager[None]:
        return self._slots.held() if self._slots is not None else nullcontext()

    @asynccontextmanager
    async def _live_call(self, key: CallKey) -> AsyncIterator[None]:
        """While the call streams, its text is published as live output; the row goes
        when the reply is whole (the journal keeps it) or the call fails."""
        if self._live is None:
            yield
            return
        live = self._live.of_call(key, self._journal.attempt)
        token = CURRENT_CALL.set(live)
        try:
            yield
            await live.flush()
        finally:
            CURRENT_CALL.reset(token)
            await live.close()

    async def _ahandle_streaming_response(
        self,
        params: dict[str, Any],
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Any = None,
        from_agent: Any = None,
        response_model: Any = None,
    ) -> Any:
        # CrewAI's own handler would journal a cut-off reply as whole (llm_stream.py).
        if response_model is not None:  # structured output comes in one piece
            return await self._ahandle_non_streaming_response(
                params, callbacks, available_functions, from_task, from_agent, response_model
            )
        return await stream_reply(
            self, params, callbacks, available_functions, from_task, from_agent
        )

    def supports_function_calling(self) -> bool:
        """Native tool calls or the ReAct text format, as the model config says; "auto"
        asks litellm's model map (an unknown model gets ReAct)."""
        if self._function_calling == "native":
            return True
        if self._function_calling == "react":
            return False
        return bool(super().supports_function_calling())

    call._crewai_rate_limit_wrapped = True  # type: ignore[attr-defined]
    acall._crewai_rate_limit_wrapped = True  # type: ignore[attr-defined]

    def _track_token_usage_internal(self, usage_data: Any) -> None:
        # CrewAI hands litellm's usage object to a reader that finds cached tokens only
        # in a dict, so cached tokens were never counted; its own flattening fixes that.
        flat = self._usage_to_dict(usage_data)
        super()._track_token_usage_internal(flat if flat is not None else usage_data)

    def _started(self) -> tuple[datetime, float, UsageMetrics]:
        return datetime.now(UTC), time.perf_counter(), self.get_token_usage_summary()

    def _entry(
        self, messages: Any, started: tuple[datetime, float, UsageMetrics], reply: Any
    ) -> LLMCall:
        started_at, clock, before = started
        after = self.get_token_usage_summary()
        tool_calls = _tool_calls(reply)
        usage = TokenUsage(
            prompt_tokens=after.prompt_tokens - before.prompt_tokens,
            completion_tokens=after.completion_tokens - before.completion_tokens,
            cached_tokens=after.cached_prompt_tokens - before.cached_prompt_tokens,
            total_tokens=after.total_tokens - before.total_tokens,
            llm_calls=1,
        )
        return LLMCall(
            model=self.model,
            messages=_plain_messages(messages),
            reply="" if tool_calls else (reply if isinstance(reply, str) else repr(reply)),
            tool_calls=tool_calls,
            usage=usage.model_copy(update={"cost_micros": call_cost_micros(self._prices, usage)}),
            latency_ms=round((time.perf_counter() - clock) * 1000, 1),
            started_at=started_at,
            execution=self._transcript.execution,
        )

    def _as_crewai_reply(self, reply: Any) -> Any:
        if self._answer_only and isinstance(reply, str) and FINAL_ANSWER not in reply:
            return f"Thought: I can answer now.\n{FINAL_ANSWER} {reply.strip()}"
        return reply


def build_llm(
    config: ModelConfig,
    transcript: Transcript,
    timeout: float | None,
    loop: asyncio.AbstractEventLoop,
    *,
    journal: StepJournal,
    usage_log: UsageLog,
    live: LiveOutput | None = None,
    with_tools: bool = False,
    budget: BudgetGuard | None = None,
    slots: CallSlots | None = None,
) -> KasalLLM:
    """A fresh LLM for one step attempt, routed through litellm with its retries off.

    ``loop`` is CrewAI's event loop: CrewAI's threads hand their calls to it.
    """
    sampling = _sampling(config)
    prices = prices_of(config)
    llm = KasalLLM(
        model=config.model,
        is_litellm=True,
        api_base=config.api_base,
        api_key=_api_key(config),
        timeout=timeout,
        num_retries=0,
        max_retries=0,
        # Streamed, so the run console shows the reply as it comes (activities/llm_stream.py).
        stream=True,
        **sampling,
        **_litellm_prices(prices),
    )
    llm._transcript = transcript
    llm._live = live
    llm._loop = loop
    llm._journal = journal
    llm._usage_log = usage_log
    llm._answer_only = not with_tools
    llm._function_calling = config.function_calling
    llm._prices = prices
    llm._budget = budget
    llm._slots = slots
    return llm


def _litellm_prices(prices: ModelPrices | None) -> dict[str, float]:
    """The prices as litellm takes them, per token. litellm prices every reply itself,
    though we read only our own price (activities/pricing.py); told it, litellm skips
    looking the model up in its price map: a sixth of its CPU per call, more for a model
    the map has no entry for (each lookup fails through its fallbacks)."""
    if prices is None:
        return {}
    return {
        "input_cost_per_token": prices.input_per_mtok / PER_MILLION,
        "output_cost_per_token": prices.output_per_mtok / PER_MILLION,
    }


def _sampling(config: ModelConfig) -> dict[str, Any]:
    # Filtered here too: a config may come from elsewhere than the API (a registry, a
    # row written before the allowlist). The config's own fields win over its params.
    sampling = allowed_params(config.params)
    for name in ("temperature", "max_tokens"):
        if getattr(config, name) is not None:
            sampling[name] = getattr(config, name)
    return sampling


def _api_key(config: ModelConfig) -> str | None:
    if config.api_key is not None:
        return config.api_key.get_secret_value()
    # A config that names its own server and no key gets a placeholder, never None: with
    # None, litellm would send the worker's OPENAI_API_KEY (or another provider's key from
    # the environment) to that server. Self-hosted servers need no key anyway, but the
    # OpenAI SDK insists on one.
    return NO_KEY if config.api_base else None


def _running_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    return getattr(method, "__wrapped__", method)


def _plain_messages(messages: Any) -> list[dict[str, Any]]:
    """The messages as JSON: role and content, and the tool calls and their ids, which a
    native tool loop's messages carry and its next request depends on."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    plain: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        entry: dict[str, Any] = {
            "role": str(message.get("role", "")),
            "content": content if content is None else str(content),
        }
        if message.get("tool_calls"):
            entry["tool_calls"] = _tool_calls(message["tool_calls"])
        if message.get("tool_call_id"):
            entry["tool_call_id"] = str(message["tool_call_id"])
        plain.append(entry)
    return plain


def _tool_calls(reply: Any) -> list[dict[str, Any]]:
    """A native reply's tool calls in OpenAI's JSON shape; [] for a text reply."""
    if not isinstance(reply, list):
        return []
    calls = []
    for call in reply:
        if isinstance(call, dict):
            calls.append(call)
            continue
        function = getattr(call, "function", None)
        calls.append(
            {
                "id": getattr(call, "id", None),
                "type": "function",
                "function": {
                    "name": getattr(function, "name", None),
                    "arguments": getattr(function, "arguments", None),
                },
            }
        )
    return calls


async def complete(
    config: ModelConfig,
    messages: list[dict[str, str]],
    timeout: float,
    *,
    response_format: dict[str, Any] | None = None,
) -> str:
    """One chat completion through litellm, with none of its retries: for a single
    answer without an agent (a definition from a prompt). ``response_format`` asks for
    structured output; the caller knows whether the provider supports it."""
    sampling = _sampling(config)
    if response_format is not None:
        sampling["response_format"] = response_format
    response = await litellm.acompletion(
        model=config.model,
        messages=messages,
        api_base=config.api_base,
        api_key=_api_key(config),
        timeout=timeout,
        num_retries=0,
        max_retries=0,
        **sampling,
    )
    content = response.choices[0].message.content
    return content if isinstance(content, str) else ""
