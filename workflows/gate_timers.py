"""How a gate's timers are named in Temporal: the summary of its deadline, reminder and
escalation timers says which gate and round it is for, so that the API's history fold
(api/services/run_fold.py) can tell which gate's timer fired."""

from __future__ import annotations

from workflows.engine.events import GateAlarmKind, StartGateAlarm, StartGateTimer

GATE_TIMER_PREFIX = "deadline of gate "
GATE_ALARM_PREFIXES = {"remind": "reminder of gate ", "escalate": "escalation of gate "}


def gate_timer_summary(timer: StartGateTimer) -> str:
    return f"{GATE_TIMER_PREFIX}{timer.step_id} round {timer.round}"


def gate_alarm_summary(alarm: StartGateAlarm) -> str:
    return f"{GATE_ALARM_PREFIXES[alarm.alarm]}{alarm.step_id} round {alarm.round}"


def parse_gate_alarm_summary(summary: str) -> tuple[GateAlarmKind, str, int] | None:
    """The alarm, gate and round a reminder or escalation timer was started for."""
    for alarm, prefix in GATE_ALARM_PREFIXES.items():
        if summary.startswith(prefix):
            step_id, _, round_text = summary.removeprefix(prefix).rpartition(" round ")
            if round_text.isdigit():
                return ("remind" if alarm == "remind" else "escalate", step_id, int(round_text))
    return None


def parse_gate_timer_summary(summary: str) -> tuple[str, int] | None:
    """The gate and round a timer was started for, from its summary."""
    if not summary.startswith(GATE_TIMER_PREFIX):
        return None
    step_id, _, round_text = summary.removeprefix(GATE_TIMER_PREFIX).rpartition(" round ")
    return (step_id, int(round_text)) if round_text.isdigit() else None
