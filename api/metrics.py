"""The API's Prometheus metrics (README, Metrics): runs started and closed, counted from
Temporal's visibility store at each scrape, and how long gates waited for the decisions
this process took.

Runs are counted where they are recorded, not where this process saw them: the runs a
schedule or a fork started, the runs another API process started and those started
before a restart are all in visibility, and so is how each closed; the workflow that
closes them cannot count (it is replayed). A gate's wait is observed here, where a
person's decision lands, so each decision is observed once by the process that took it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from workflows.run_state import StepState
from workflows.status import RunStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CLOSED_STATUSES = (
    RunStatus.COMPLETED,
    RunStatus.REJECTED,
    RunStatus.FAILED,
    RunStatus.CANCELLED,
    RunStatus.TERMINATED,
    RunStatus.TIMED_OUT,
)
# People decide within minutes to days.
GATE_WAIT_BUCKETS = (1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600)


@dataclass(frozen=True)
class RunCounts:
    """Every run visibility holds (each once, however often it continued as new), and
    those that closed, by their status."""

    started: int
    closed: Mapping[RunStatus, int]


class ApiMetrics:
    """One per app: what the API process measures itself, and how a scrape is answered."""

    def __init__(self) -> None:
        # In no registry of the module's: tests run several apps in one process.
        self._gate_waits = Histogram(
            "kasal_gate_wait_seconds",
            "How long a gate waited from opening to a person's decision",
            buckets=GATE_WAIT_BUCKETS,
            registry=None,
        )
        self._process = ProcessCollector(registry=None)

    def observe_gate_wait(self, step: StepState) -> None:
        """The wait that ``step``'s newest decision ended, from the gate's opening."""
        if not step.decisions or step.waiting_since is None:
            return
        waited = step.decisions[-1].decided_at - step.waiting_since
        self._gate_waits.observe(max(waited.total_seconds(), 0.0))

    def render(self, runs: RunCounts | None) -> bytes:
        """The exposition text; without ``runs`` (Temporal did not answer), no run counts."""
        registry = CollectorRegistry()
        registry.register(self._gate_waits)
        registry.register(self._process)
        if runs is not None:
            registry.register(_RunCounters(runs))
        return generate_latest(registry)


class _RunCounters(Collector):
    def __init__(self, runs: RunCounts) -> None:
        self._runs = runs

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "kasal_runs_started", "Runs started (Temporal visibility)", value=self._runs.started
        )
        closed = CounterMetricFamily(
            "kasal_runs_closed", "Runs closed, by status (Temporal visibility)", labels=["status"]
        )
        for status in CLOSED_STATUSES:
            closed.add_metric([status.value], self._runs.closed.get(status, 0))
        yield closed
