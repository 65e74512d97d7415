"""`make bench`: the goals of issue 13 (P1-P7 and the API load check), each a ratio
against an anchor measured in the same run, printed as a table with the machine beside
every figure and written to .kasal/bench/results.json.

KASAL_BENCH_CASES picks some (``P1,P4,load``); each case's size has its own knob (see
its module), so a development run can be tiny.
"""

from __future__ import annotations

import asyncio
import os
import signal
import traceback
from collections.abc import Awaitable, Callable

from bench import designer_frames, long_run, recovery_goal, start_latency, step_time, throughput
from bench.report import Figure, print_table, write_results
from bench.stack import Stack, service_stack

STACK_CASES: dict[str, Callable[[Stack], Awaitable[Figure]]] = {
    "P1": step_time.p1,
    "P2": step_time.p2,
    "P3": throughput.p3,
    "P4": start_latency.p4,
    "P5": long_run.p5,
    "P7": designer_frames.p7,
    "load": start_latency.load_check,
}
OWN_STACK_CASES: dict[str, Callable[[], Awaitable[Figure]]] = {"P6": recovery_goal.p6}
ORDER = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "load"]


def chosen() -> list[str]:
    picked = os.environ.get("KASAL_BENCH_CASES")
    return [c for c in ORDER if not picked or c in picked.split(",")]


def failed(case: str, error: BaseException) -> Figure:
    traceback.print_exception(error)
    return Figure(case, "could not be measured", f"error: {error!r}"[:120], "-", None)


async def run_goals() -> list[Figure]:
    # The stack's processes run in sessions of their own: on SIGTERM, unwind so that the
    # stack stops them rather than leave them running.
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    cases = chosen()
    figures: dict[str, Figure] = {}
    if any(case in STACK_CASES for case in cases):
        async with service_stack() as stack:
            for case in (c for c in cases if c in STACK_CASES):
                print(f"bench: {case} …", flush=True)
                try:
                    figures[case] = await STACK_CASES[case](stack)
                except Exception as error:
                    figures[case] = failed(case, error)
                print(f"bench: {case}: {figures[case].figure}", flush=True)
    for case in (c for c in cases if c in OWN_STACK_CASES):
        print(f"bench: {case} …", flush=True)
        try:
            figures[case] = await OWN_STACK_CASES[case]()
        except Exception as error:
            figures[case] = failed(case, error)
        print(f"bench: {case}: {figures[case].figure}", flush=True)
    ordered = [figures[case] for case in cases]
    print_table(ordered)
    write_results(ordered)
    return ordered
