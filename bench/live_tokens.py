"""How long a streamed token takes from the LLM to the API's run event stream (goal:
500 ms at most).

A step streams a long reply from the stub, a chunk every 50 ms; beside it, the API's
side (the listener, token follower and call journal the run event stream uses) polls as
the stream does, the journal giving the reply's end. Each chunk's latency is from the
moment the stub sent it to the first poll that had its text. SQLite, as the harness
runs: the worker's batches land in the table the API polls.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from api.services.live_tokens import TokenFollower
from bench.harness import bench_stack, new_id, plan_of
from db.call_journal import DONE, CallJournal
from db.live_token_listener import LiveTokenListener
from db.session import create_engine
from tests.stub_llm import Reply
from worker.main import build_worker
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input

WORDS = 400  # 50 chunks of eight words
CHUNK_DELAY = 0.05
POLL_SECONDS = 0.1  # as api/services/run_events.py polls


async def main() -> dict[str, float]:
    async with bench_stack() as bench:
        reply = "Final Answer: " + " ".join(f"w{i}" for i in range(WORDS))
        bench.stub.script("STEP-LIVE", Reply(reply, chunk_delay=CHUNK_DELAY))
        engine = create_engine(bench.database_url)
        listener = LiveTokenListener(engine, bench.blobs)
        journal = CallJournal(bench.blobs)
        worker = build_worker(bench.env.client, new_id("bench"), bench.models, bench.blobs, 100)
        seen: list[tuple[float, int]] = []  # (when, characters seen so far)
        try:
            async with worker:
                handle = await bench.env.client.start_workflow(
                    AgentWorkflowV2.run,
                    AgentWorkflowV2Input(plan=plan_of([("live", [])])),
                    id=new_id("live"),
                    task_queue=worker.task_queue,
                )
                async with listener.subscribe(handle.id) as subscription:
                    tokens = TokenFollower(handle.id, subscription)
                    total = 0
                    while total < len(reply):
                        await asyncio.sleep(POLL_SECONDS)
                        events = await tokens.events()
                        if tokens.take_call_ended():
                            changes = await journal.changes_after(handle.id, None)
                            events += [
                                e for c in changes if c.status == DONE for e in tokens.ended(c)
                            ]
                        total += sum(len(e.text) for e in events)
                        seen.append((time.monotonic(), total))
                await handle.result()
        finally:
            await listener.close()
            await engine.dispose()
        (call,) = bench.stub.calls("STEP-LIVE")
    latencies = [
        next(when for when, chars in seen if chars >= sent) - sent_at
        for sent_at, sent in call.chunks
    ]
    return {
        "chunks": len(latencies),
        "token_latency_ms_p50": round(1000 * statistics.median(latencies), 1),
        "token_latency_ms_p95": round(1000 * statistics.quantiles(latencies, n=20)[-1], 1),
        "token_latency_ms_max": round(1000 * max(latencies), 1),
    }
