"""Run every benchmark and print its numbers as JSON lines."""

from __future__ import annotations

import asyncio
import json
import sys

from bench import closing, in_flight, live_tokens, recovery, step_overhead

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
    asyncio.run(run(sys.argv[1:] or list(BENCHMARKS)))
