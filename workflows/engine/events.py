"""What happens to a run (events, fed to the reducer) and what it must do (commands).

Events carry their own time, so the reducer never reads a clock: the workflow stamps
them with ``workflow.now()`` and a history fold with each event's recorded time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from workflows.engine.state import MapEntry
from workflows.plan import BudgetLimits
from workflows.run_state import RecordedDecision
from workflows.status import RunStatus
from workflows.task_step import Allowance, TokenUsage


class _Event(BaseModel):
    at: datetime


class RunStarted(_Event):
    """A run's first execution began, or a continued one resumed its carried state."""

    kind: Literal["started"] = "started"


class TaskSucceeded(_Event):
    kind: Literal["task_succeeded"] = "task_succeeded"
    step_id: str
    execution: int
    output: str
    output_ref: str | None = None
    usage: TokenUsage
    attempts: int
    transcript_ref: str | None = None


class TaskFailed(_Event):
    kind: Literal["task_failed"] = "task_failed"
    step_id: str
    execution: int
    error: str
    attempts: int
    # The run asked for the cancel: the step ends cancelled, not failed.
    cancelled: bool = False
    # The step stopped before a call that would cross its budget (BudgetExceeded): it
    # pauses with reason budget, whatever its on_failure, having spent ``usage``.
    over_budget: bool = False
    usage: TokenUsage | None = None


class Decided(_Event):
    kind: Literal["decided"] = "decided"
    decision: RecordedDecision
    via: Literal["update", "signal", "timeout"] = "update"
    request_key: str | None = None


class GateExpired(_Event):
    kind: Literal["gate_expired"] = "gate_expired"
    step_id: str
    round: int


GateAlarmKind = Literal["remind", "escalate"]


class GateAlarm(_Event):
    """A waiting gate's reminder or escalation time came (``remind_after_seconds``,
    ``escalate_after_seconds``)."""

    kind: Literal["gate_alarm"] = "gate_alarm"
    step_id: str
    round: int
    alarm: GateAlarmKind


class RetryRequested(_Event):
    kind: Literal["retry_requested"] = "retry_requested"
    step_id: str
    actor: str = ""
    request_key: str | None = None
    # The execution the operator saw paused, if they said (gates.result_in_flight).
    seen_execution: int | None = None


class SkipRequested(_Event):
    kind: Literal["skip_requested"] = "skip_requested"
    step_id: str
    actor: str = ""
    output: str = ""
    output_ref: str | None = None
    request_key: str | None = None
    # The execution the operator saw paused, if they said (gates.result_in_flight).
    seen_execution: int | None = None


class AllowanceRequested(_Event):
    """A running step asks for more of the budget (an update from its activity)."""

    kind: Literal["allowance_requested"] = "allowance_requested"
    step_id: str
    execution: int
    needed: Allowance


class BudgetRaised(_Event):
    """An operator set new limits (``POST /runs/{run_id}/budget``)."""

    kind: Literal["budget_raised"] = "budget_raised"
    limits: BudgetLimits
    actor: str = ""


class CancelRequested(_Event):
    kind: Literal["cancel_requested"] = "cancel_requested"


ChildOutcome = Literal["completed", "rejected", "failed", "cancelled"]


class ChildStarted(_Event):
    """The workflow started a step's child run, under this id."""

    kind: Literal["child_started"] = "child_started"
    step_id: str
    execution: int
    child_run_id: str


class ChildFinished(_Event):
    """A map's chunk, a loop's iteration or a sub-workflow ended (workflows/children.py)."""

    kind: Literal["child_finished"] = "child_finished"
    step_id: str
    execution: int
    outcome: ChildOutcome
    # The child's steps' outputs (previews where large), by the child's step ids, and
    # the blobs that hold the large ones whole.
    outputs: dict[str, str] = {}
    output_refs: dict[str, str] = {}
    final_output: str = ""
    error: str = ""
    # What the child's LLM calls used and cost, its own children's included.
    usage: TokenUsage = TokenUsage()


class MapResultsStored(_Event):
    """A map's results so far went to the blob store (``StoreMapResults``): a batch of
    them, or, when the map is done, the whole list."""

    kind: Literal["map_results_stored"] = "map_results_stored"
    step_id: str
    execution: int
    ref: str
    preview: str = ""


class ChildStatusChanged(_Event):
    """A child run's open status changed: its gates and pauses show on the parent's step."""

    kind: Literal["child_status_changed"] = "child_status_changed"
    step_id: str
    child_run_id: str
    status: RunStatus


class ContinueAsNewSuggested(_Event):
    kind: Literal["continue_as_new_suggested"] = "continue_as_new_suggested"


RunEvent = Annotated[
    RunStarted
    | TaskSucceeded
    | TaskFailed
    | Decided
    | GateExpired
    | GateAlarm
    | RetryRequested
    | SkipRequested
    | CancelRequested
    | AllowanceRequested
    | BudgetRaised
    | ChildStarted
    | ChildFinished
    | MapResultsStored
    | ChildStatusChanged
    | ContinueAsNewSuggested,
    Field(discriminator="kind"),
]

# --- commands: the effects a transition asks the workflow to carry out ------------------


class StartTask(BaseModel):
    kind: Literal["start_task"] = "start_task"
    step_id: str
    execution: int
    # What it may spend of the run's budget, and the execution whose call journal it
    # continues (an earlier one, when it stopped over budget: nothing is paid twice).
    allowance: Allowance | None = None
    journal_execution: int | None = None


class StartChild(BaseModel):
    """Start a child run for a map's next chunk, a loop's next iteration, or a
    sub-workflow; what it runs is in ``workflows/children.py``."""

    kind: Literal["start_child"] = "start_child"
    step_id: str
    execution: int
    # A map's chunk: the items, and the index of the first; a loop: the iteration.
    items: list[Any] = []
    first_index: int = 0
    iteration: int = 0
    # A sub-workflow's inputs, evaluated.
    inputs: dict[str, str] = {}


class StoreMapResults(BaseModel):
    """Store a map's finished items as a blob, so its state keeps references, not
    results: a batch, or (``final``) the whole list, the batches' and then ``entries``."""

    kind: Literal["store_map_results"] = "store_map_results"
    step_id: str
    execution: int
    entries: list[MapEntry]
    batch_refs: list[str] = []
    final: bool = False


class CancelTask(BaseModel):
    kind: Literal["cancel_task"] = "cancel_task"
    step_id: str


class StartGateTimer(BaseModel):
    kind: Literal["start_gate_timer"] = "start_gate_timer"
    step_id: str
    round: int
    deadline: datetime


class StartGateAlarm(BaseModel):
    """A waiting gate's reminder or escalation timer; CancelGateTimer cancels it too."""

    kind: Literal["start_gate_alarm"] = "start_gate_alarm"
    step_id: str
    round: int
    alarm: GateAlarmKind
    at: datetime


class CancelGateTimer(BaseModel):
    """Cancel a gate's timers: its deadline, and its reminder and escalation if set."""

    kind: Literal["cancel_gate_timer"] = "cancel_gate_timer"
    step_id: str


class Notify(BaseModel):
    kind: Literal["notify"] = "notify"
    event: Literal["waiting_for_approval", "needs_attention", "run_closed"]
    status: RunStatus
    step_id: str | None = None


ApproverNoticeKind = Literal["waiting", "reminder", "escalation"]


class NotifyApprovers(BaseModel):
    """Tell a gate's approvers (or, on escalation, its ``escalate_to``) that it waits:
    a Slack-compatible webhook and email (workflows/approver_notice.py)."""

    kind: Literal["notify_approvers"] = "notify_approvers"
    step_id: str
    round: int
    notice: ApproverNoticeKind
    recipients: list[str]


class UpsertApprovers(BaseModel):
    """Keep the ``KasalApprovers`` search attribute current: who may decide the gates
    now waiting (lowercased emails and role names; ``operator`` for a gate without
    approvers); empty when none waits."""

    kind: Literal["upsert_approvers"] = "upsert_approvers"
    approvers: list[str]


class UpsertStatus(BaseModel):
    """Keep the ``KasalStatus`` search attribute current."""

    kind: Literal["upsert_status"] = "upsert_status"
    status: RunStatus


class UpsertCost(BaseModel):
    """Keep the ``KasalCostMicros`` search attribute current."""

    kind: Literal["upsert_cost"] = "upsert_cost"
    cost_micros: int


Command = (
    StartTask
    | StartChild
    | StoreMapResults
    | CancelTask
    | StartGateTimer
    | StartGateAlarm
    | CancelGateTimer
    | Notify
    | NotifyApprovers
    | UpsertStatus
    | UpsertCost
    | UpsertApprovers
)


class Refusal(BaseModel):
    """Why a request cannot apply now; the API answers it as 404, 403 or 409."""

    type: Literal[
        "UnknownStep", "NotWaiting", "NotPaused", "StaleRound", "RunClosing", "NotAnApprover"
    ]
    message: str
