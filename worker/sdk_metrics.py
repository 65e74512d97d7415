"""The Temporal SDK's own metrics (pollers, slots, latencies, …) on the worker's /metrics.

The SDK's core can serve Prometheus itself, but only on a port of its own; Kasal's
metrics would then need a second one. Instead the core writes its updates to a
``MetricBuffer``, and this collector folds them into Prometheus metrics in
prometheus_client's registry, so one endpoint serves both. Names follow what the SDK's
own exporter gives with ``counters_total_suffix`` and ``unit_suffix`` on and durations
in seconds: ``temporal_request_total``, ``temporal_workflow_endtoend_latency_seconds``.
"""

from __future__ import annotations

import asyncio
import math
import threading
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BufferedMetric,
    BufferedMetricUpdate,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
)

# The core drops updates beyond this many between two drains (and logs it); a busy worker
# makes a few thousand a second, drained every DRAIN_INTERVAL_SECONDS.
BUFFER_SIZE = 200_000
DRAIN_INTERVAL_SECONDS = 1.0
# Seconds for durations (the SDK's latencies: milliseconds to minutes), and plain
# powers of ten for the few histograms that count things.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
COUNT_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000)

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0

    def observe(self, value: float) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.buckets) + 1)
        self.counts[bisect_left(self.buckets, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        running, out = 0, []
        for bound, count in zip([*self.buckets, math.inf], self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == math.inf else repr(float(bound)), float(running)))
        return out


@dataclass
class _Family:
    kind: int
    name: str
    description: str
    values: dict[Labels, float] = field(default_factory=dict)
    histograms: dict[Labels, _Histogram] = field(default_factory=dict)


class SdkMetrics(Collector):
    """A Temporal runtime whose metrics go to a buffer, and a collector that serves them.

    Pass ``runtime`` to ``Client.connect``: every worker of that client reports through it.
    """

    def __init__(self) -> None:
        self._buffer = MetricBuffer(BUFFER_SIZE, MetricBufferDurationFormat.SECONDS)
        self.runtime = Runtime(telemetry=TelemetryConfig(metrics=self._buffer))
        self._families: dict[str, _Family] = {}
        # The HTTP server's thread collects while the worker's loop drains.
        self._lock = threading.Lock()

    def drain(self) -> None:
        """Fold the buffered updates in; the buffer must be drained often (see BUFFER_SIZE)."""
        with self._lock:
            for update in self._buffer.retrieve_updates():
                self._fold(update)

    async def drain_forever(self) -> None:
        while True:
            self.drain()
            await asyncio.sleep(DRAIN_INTERVAL_SECONDS)

    def _fold(self, update: BufferedMetricUpdate) -> None:
        metric = update.metric
        family = self._families.get(metric.name)
        if family is None:
            family = _Family(metric.kind, _exported_name(metric), metric.description or "")
            self._families[metric.name] = family
        labels = _labels(update.attributes)
        if metric.kind == BUFFERED_METRIC_KIND_COUNTER:
            family.values[labels] = family.values.get(labels, 0.0) + update.value
        elif metric.kind == BUFFERED_METRIC_KIND_GAUGE:
            family.values[labels] = float(update.value)
        else:
            buckets = DURATION_BUCKETS if _is_duration(metric) else COUNT_BUCKETS
            family.histograms.setdefault(labels, _Histogram(buckets)).observe(update.value)

    def collect(self) -> Iterator[Metric]:
        self.drain()
        with self._lock:
            families = list(self._families.values())
            for family in families:
                yield _exported(family)


def _exported(family: _Family) -> Metric:
    """One family as Prometheus samples, written out one by one: the SDK's attributes
    differ between updates of one metric (an operation here, a task queue there), which
    the families' ``add_metric`` (one set of label names) does not allow."""
    if family.kind == BUFFERED_METRIC_KIND_COUNTER:
        metric: Metric = CounterMetricFamily(family.name, family.description)
        metric.samples = [
            Sample(f"{family.name}_total", dict(labels), value)
            for labels, value in family.values.items()
        ]
    elif family.kind == BUFFERED_METRIC_KIND_GAUGE:
        metric = GaugeMetricFamily(family.name, family.description)
        metric.samples = [
            Sample(family.name, dict(labels), value) for labels, value in family.values.items()
        ]
    else:
        metric = HistogramMetricFamily(family.name, family.description)
        for labels, histogram in family.histograms.items():
            metric.samples += _histogram_samples(family.name, dict(labels), histogram)
    return metric


def _histogram_samples(name: str, labels: dict[str, str], histogram: _Histogram) -> list[Sample]:
    samples = [
        Sample(f"{name}_bucket", {**labels, "le": bound}, count)
        for bound, count in histogram.cumulative()
    ]
    samples.append(Sample(f"{name}_count", labels, float(sum(histogram.counts))))
    samples.append(Sample(f"{name}_sum", labels, histogram.total))
    return samples


def _labels(attributes: Mapping[str, object]) -> Labels:
    return tuple(sorted((name, str(value)) for name, value in attributes.items()))


def _is_duration(metric: BufferedMetric) -> bool:
    return metric.unit in ("s", "ms", "duration")


def _exported_name(metric: BufferedMetric) -> str:
    return f"{metric.name}_seconds" if _is_duration(metric) else metric.name
