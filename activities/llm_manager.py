"""The LLM manager: turns a model config into a CrewAI LLM that always goes through litellm.

Every retry layer below Temporal is off (litellm's ``num_retries``, the provider
SDK's ``max_retries``), so each Temporal attempt is exactly one HTTP call per LLM
turn and every attempt is visible in the run's history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from crewai import LLM
from crewai.types.usage_metrics import UsageMetrics
from pydantic import PrivateAttr

from activities.model_registry import ModelConfig
from workflows.task_step import LLMCall, TokenUsage, TranscriptEntry

# CrewAI takes a reply as the result only when it carries this marker.
FINAL_ANSWER = "Final Answer:"
NO_KEY = "no-key"


class Transcript:
    """What one step said to its LLM and heard back, call by call."""

    def __init__(self) -> None:
        self.entries: list[TranscriptEntry] = []

    @property
    def usage(self) -> TokenUsage:
        total = TokenUsage()
        for entry in self.entries:
            if isinstance(entry, LLMCall):
                total = total + entry.usage
        return total


class KasalLLM(LLM):
    """A CrewAI LLM that records a transcript and copes with small models' replies.

    A model with no tools to call can only answer, so a reply without CrewAI's
    "Final Answer:" marker is taken as the answer instead of being sent back as a
    format error, which small models answer with yet another malformed reply.
    """

    _transcript: Transcript = PrivateAttr(default_factory=Transcript)
    _answer_only: bool = PrivateAttr(default=True)
    _loop: asyncio.AbstractEventLoop | None = PrivateAttr(default=None)
    _in_flight: set[Future[Any]] = PrivateAttr(default_factory=set)

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
        started = self._started()
        reply = _unwrapped(LLM.call)(self, messages, *args, **kwargs)
        return self._finish(messages, started, reply)

    def cancel_in_flight(self) -> None:
        """Abandon LLM calls a cancelled step started: their HTTP requests close."""
        for future in list(self._in_flight):
            future.cancel()

    async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        started = self._started()
        reply = await _unwrapped(LLM.acall)(self, messages, *args, **kwargs)
        return self._finish(messages, started, reply)

    call._crewai_rate_limit_wrapped = True  # type: ignore[attr-defined]
    acall._crewai_rate_limit_wrapped = True  # type: ignore[attr-defined]

    def _started(self) -> tuple[datetime, float, UsageMetrics]:
        return datetime.now(UTC), time.perf_counter(), self.get_token_usage_summary()

    def _finish(
        self, messages: Any, started: tuple[datetime, float, UsageMetrics], reply: Any
    ) -> Any:
        started_at, clock, before = started
        after = self.get_token_usage_summary()
        self._transcript.entries.append(
            LLMCall(
                model=self.model,
                messages=_plain_messages(messages),
                reply=reply if isinstance(reply, str) else repr(reply),
                usage=TokenUsage(
                    prompt_tokens=after.prompt_tokens - before.prompt_tokens,
                    completion_tokens=after.completion_tokens - before.completion_tokens,
                    total_tokens=after.total_tokens - before.total_tokens,
                    llm_calls=1,
                ),
                latency_ms=round((time.perf_counter() - clock) * 1000, 1),
                started_at=started_at,
            )
        )
        if self._answer_only and isinstance(reply, str) and FINAL_ANSWER not in reply:
            return f"Thought: I can answer now.\n{FINAL_ANSWER} {reply.strip()}"
        return reply


def build_llm(
    config: ModelConfig,
    transcript: Transcript,
    timeout: float | None,
    loop: asyncio.AbstractEventLoop,
) -> KasalLLM:
    """A fresh LLM for one step attempt, routed through litellm with its retries off.

    ``loop`` is the activity's event loop: CrewAI's threads hand their calls to it.
    """
    llm = KasalLLM(
        model=config.model,
        is_litellm=True,
        api_base=config.api_base,
        api_key=_api_key(config),
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        timeout=timeout,
        num_retries=0,
        max_retries=0,
        **config.params,
    )
    llm._transcript = transcript
    llm._loop = loop
    return llm


def _api_key(config: ModelConfig) -> str | None:
    if config.api_key is not None:
        return config.api_key.get_secret_value()
    # Self-hosted OpenAI-compatible servers need no key, but the OpenAI SDK insists on one.
    return NO_KEY if config.api_base else None


def _running_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _unwrapped(method: Callable[..., Any]) -> Callable[..., Any]:
    return getattr(method, "__wrapped__", method)


def _plain_messages(messages: Any) -> list[dict[str, str]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [
        {"role": str(m.get("role", "")), "content": str(m.get("content", ""))} for m in messages
    ]
