"""A run's gate timers as workflow tasks: a gate's deadline, and its reminder and
escalation, each a durable timer whose firing is fed to the run as an event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from temporalio import workflow

from workflows.engine.events import (
    CancelGateTimer,
    GateAlarm,
    GateExpired,
    RunEvent,
    StartGateAlarm,
    StartGateTimer,
)
from workflows.gate_timers import GATE_ALARM_PREFIXES, gate_alarm_summary, gate_timer_summary


class GateTimers:
    """The timers running, by gate (a deadline) and by gate and alarm (a reminder or an
    escalation); starting one again replaces it."""

    def __init__(self, feed: Callable[[RunEvent], object]) -> None:
        self._feed = feed
        self._running: dict[str, asyncio.Task[None]] = {}

    def start_deadline(self, timer: StartGateTimer) -> None:
        self._replace(timer.step_id, self._deadline(timer))

    def start_alarm(self, alarm: StartGateAlarm) -> None:
        self._replace(_alarm_key(alarm.step_id, alarm.alarm), self._alarm(alarm))

    def cancel_gate(self, command: CancelGateTimer) -> None:
        self._cancel(command.step_id)
        for alarm in GATE_ALARM_PREFIXES:
            self._cancel(_alarm_key(command.step_id, alarm))

    def cancel_all(self) -> None:
        for key in list(self._running):
            self._cancel(key)

    def _replace(self, key: str, timer: Coroutine[Any, Any, None]) -> None:
        self._cancel(key)
        self._running[key] = asyncio.create_task(timer)

    def _cancel(self, key: str) -> None:
        timer = self._running.pop(key, None)
        if timer is not None:
            timer.cancel()

    async def _deadline(self, timer: StartGateTimer) -> None:
        # The summary names the gate, so a history fold can tell which gate's timer fired.
        if await self._fired(timer.step_id, timer.deadline, gate_timer_summary(timer)):
            self._feed(GateExpired(at=workflow.now(), step_id=timer.step_id, round=timer.round))

    async def _alarm(self, alarm: StartGateAlarm) -> None:
        key = _alarm_key(alarm.step_id, alarm.alarm)
        if await self._fired(key, alarm.at, gate_alarm_summary(alarm)):
            self._feed(
                GateAlarm(
                    at=workflow.now(), step_id=alarm.step_id, round=alarm.round, alarm=alarm.alarm
                )
            )

    async def _fired(self, key: str, at: datetime, summary: str) -> bool:
        """Sleep until ``at``: True when the timer fired, False when it was cancelled."""
        remaining = (at - workflow.now()).total_seconds()
        try:
            await workflow.sleep(max(remaining, 0.001), summary=summary)
        except asyncio.CancelledError:
            return False
        self._running.pop(key, None)
        return True


def _alarm_key(step_id: str, alarm: str) -> str:
    """Where a gate's reminder or escalation timer is kept, beside its deadline's."""
    return f"{step_id}\x00{alarm}"
