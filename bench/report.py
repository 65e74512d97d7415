"""The goal benchmarks' report: one row a case, each figure a ratio against an anchor
measured in the same run, with the machine beside it; printed as a table and written
to .kasal/bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent.parent / ".kasal" / "bench" / "results.json"


def machine() -> str:
    return f"{os.cpu_count()} cores"


@dataclass
class Figure:
    case: str  # P1 ... P7, load
    what: str
    figure: str  # as printed: "1.32x bare activity"
    goal: str
    met: bool | None  # None: no goal, or not measured
    details: dict[str, Any] = field(default_factory=dict)
    machine: str = field(default_factory=machine)
    load_average_1m: float = field(default_factory=lambda: round(os.getloadavg()[0], 2))


def ratio(value: float, anchor: float) -> float:
    return round(value / anchor, 2) if anchor else float("inf")


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (nearest rank above), for a list of at least one value."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> float:
    return round(1000 * seconds, 1)


def median_ms(seconds: list[float]) -> float:
    return ms(statistics.median(seconds))


def print_table(figures: list[Figure]) -> None:
    rows = [("case", "figure", "goal", "met", "machine")] + [
        (f.case, f.figure, f.goal, {True: "met", False: "NOT met", None: "-"}[f.met], f.machine)
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)),
            flush=True,
        )
        if index == 0:
            print("  ".join("-" * width for width in widths), flush=True)


def write_results(figures: list[Figure], path: Path = RESULTS) -> None:
    document = {
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "figures": [asdict(f) for f in figures],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
