"""`python -m bench` (make bench): the goals of issue 13 as a table (bench/goals.py).
`python -m bench NAME ...` runs the older benchmarks by name, each printed as a JSON line."""

from __future__ import annotations

import asyncio
import json
import sys

from bench import closing, in_flight, live_tokens, recovery, step_overhead
from bench.goals import run_goals

BENCHMARKS = {
    "closing": closing.main,
    "in_flight": in_flight.main,
    "live_tokens": live_tokens.main,
    "recovery": recovery.main,
    "step_overhead": step_overhead.main,
}


async def run(names: list[str]) -> None:
    for name in names:
        print(json.dumps({"benchmark": name, **await BENCHMARKS[name]()}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:]:
        asyncio.run(run(sys.argv[1:]))
    else:
        asyncio.run(run_goals())
