"""The bars of a run's timeline, made from what is already recorded: a task step's attempt
records with their calls, the attempt Temporal has in flight, and a gate's decisions.

Pure functions: reading the records is the service's job (api/services/timeline.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from api.schemas.timeline import (
    TimelineAttempt,
    TimelineCall,
    TimelineGap,
    TimelineGateWait,
    TimelineLlmCall,
    TimelineToolCall,
)
from api.schemas.transcripts import AttemptTranscript
from api.services.call_records import OUTCOME_UNKNOWN
from workflows.run_state import StepState
from workflows.status import StepStatus
from workflows.task_step import LLMCall, TranscriptEntry


@dataclass(frozen=True)
class PendingAttempt:
    """A step's activity as Temporal has it pending: an attempt running (``started_at``),
    or the next one waiting out its backoff (``next_attempt_at``)."""

    execution: int
    attempt: int
    started_at: datetime | None
    next_attempt_at: datetime | None
    calls: list[TranscriptEntry] = field(default_factory=list)


def call_bar(call_index: int, entry: TranscriptEntry) -> TimelineCall:
    """One call as a bar: from its start for its latency; a call never reported back has
    no end."""
    unanswered = entry.error == OUTCOME_UNKNOWN if not isinstance(entry, LLMCall) else False
    finished_at = (
        None if unanswered else entry.started_at + timedelta(milliseconds=entry.latency_ms)
    )
    if isinstance(entry, LLMCall):
        return TimelineLlmCall(
            call_index=call_index,
            model=entry.model,
            started_at=entry.started_at,
            finished_at=finished_at,
            latency_ms=entry.latency_ms,
            usage=entry.usage,
            cost_usd=entry.usage.cost_usd,
        )
    return TimelineToolCall(
        call_index=call_index,
        tool=entry.tool,
        started_at=entry.started_at,
        finished_at=finished_at,
        latency_ms=entry.latency_ms,
        error=entry.error,
    )


def _made(entries: list[TranscriptEntry]) -> list[TimelineCall]:
    """The calls an attempt made itself; replayed ones took no time in it."""
    return [call_bar(index, e) for index, e in enumerate(entries) if not e.replayed]


def recorded_attempt(record: AttemptTranscript) -> TimelineAttempt:
    return TimelineAttempt(
        execution=record.execution,
        attempt=record.attempt,
        started_at=record.started_at,
        finished_at=record.finished_at,
        outcome="succeeded" if record.error is None else "failed",
        error=record.error,
        calls=_made(record.entries),
        replayed_calls=sum(1 for e in record.entries if e.replayed),
    )


def running_attempt(pending: PendingAttempt, after: datetime | None) -> TimelineAttempt | None:
    """The attempt in flight, with the calls it has made so far: those of its execution
    made since its last recorded attempt ended (``after``), which Temporal's start time
    cannot tell apart across clocks. None during a backoff."""
    if pending.started_at is None:
        return None
    own = [e for e in pending.calls if after is None or e.started_at >= after]
    return TimelineAttempt(
        execution=pending.execution,
        attempt=pending.attempt,
        started_at=min([pending.started_at, *(e.started_at for e in own)]),
        finished_at=None,
        outcome="running",
        calls=_made(own),
        replayed_calls=sum(1 for e in own if e.replayed),
    )


def attempt_bars(
    records: list[AttemptTranscript], pending: PendingAttempt | None
) -> list[TimelineAttempt]:
    """Every attempt by execution then attempt, the one in flight last."""
    attempts = sorted(
        (recorded_attempt(r) for r in records), key=lambda a: (a.execution, a.attempt)
    )
    if pending is None or (pending.execution, pending.attempt) in {
        (a.execution, a.attempt) for a in attempts
    }:
        return attempts
    before = [a.finished_at for a in attempts if a.execution == pending.execution]
    running = running_attempt(pending, before[-1] if before else None)
    return attempts if running is None else [*attempts, running]


def gaps(
    attempts: list[TimelineAttempt], status: StepStatus, pending: PendingAttempt | None
) -> list[TimelineGap]:
    """The time after each failed attempt until the next began: Temporal's backoff within
    an execution, an operator's pause between executions; the last one may still last."""
    found: list[TimelineGap] = []
    for failed, after in pairwise(attempts):
        if failed.outcome == "failed" and failed.finished_at is not None:
            kind = "backoff" if after.execution == failed.execution else "paused"
            found.append(
                TimelineGap(
                    kind=kind,
                    execution=failed.execution,
                    started_at=failed.finished_at,
                    ended_at=after.started_at,
                )
            )
    last = attempts[-1] if attempts else None
    if last is None or last.outcome != "failed" or last.finished_at is None:
        return found
    backing_off = pending is not None and pending.started_at is None
    if backing_off and pending is not None and pending.execution == last.execution:
        found.append(
            TimelineGap(
                kind="backoff",
                execution=last.execution,
                started_at=last.finished_at,
                ended_at=pending.next_attempt_at,
            )
        )
    elif status == StepStatus.PAUSED:
        found.append(
            TimelineGap(
                kind="paused", execution=last.execution, started_at=last.finished_at, ended_at=None
            )
        )
    return found


def gate_waits(step: StepState) -> list[TimelineGateWait]:
    """A gate's waits, one per round whose opening is known: the first round opened when
    the step started, the latest at ``waiting_since``; the gate keeps no other round's
    opening, so a middle round of three or more is left out."""
    opened: dict[int, datetime] = {}
    if step.started_at is not None:
        opened[1] = step.started_at
    if step.waiting_since is not None and step.round > 0:
        opened[step.round] = step.waiting_since
    waits = []
    decided: set[int] = set()
    for number, decision in enumerate(step.decisions, start=1):
        round_ = decision.round or number
        decided.add(round_)
        if round_ in opened:
            waits.append(
                TimelineGateWait(
                    round=round_,
                    started_at=opened[round_],
                    ended_at=decision.decided_at,
                    decision=decision.decision,
                    actor=decision.actor,
                )
            )
    if step.status == StepStatus.WAITING and step.round not in decided and step.round in opened:
        waits.append(
            TimelineGateWait(round=step.round, started_at=opened[step.round], ended_at=None)
        )
    return waits
