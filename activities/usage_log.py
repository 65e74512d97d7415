"""The usage log: one row per LLM call a step really made, for the usage page.

The call journal cannot stand in for it: its records are sealed per run, a fork copies
them (a fork pays nothing for the steps it reuses), and retention deletes them with
the run. A replayed call is never logged: the attempt that made it logged it.

Losing a row costs a line on a chart, failing the step would cost the run: a write
that fails is logged and the step goes on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from db.blobs import BlobStore
from db.models import LlmUsageRow
from db.repositories.usage import UsageRepository
from workflows.task_step import LLMCall

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsageOwner:
    """Whose calls these are: the step, its run and workflow, and the model config."""

    workspace: str
    run_id: str
    step_id: str
    workflow_id: str
    workflow_name: str
    model_config_name: str


class UsageLog:
    """Writes on the activity's event loop, which owns the database; CrewAI calls from
    its own loop and threads."""

    def __init__(
        self, blobs: BlobStore, loop: asyncio.AbstractEventLoop, owner: UsageOwner
    ) -> None:
        self._blobs, self._loop, self._owner = blobs, loop, owner

    async def record(self, call: LLMCall) -> None:
        """Keep a call that was made now; never raises (but lets cancellation through)."""
        try:
            if _running_loop() is self._loop:
                await self._insert(call)
            else:
                future = asyncio.run_coroutine_threadsafe(self._insert(call), self._loop)
                await asyncio.wrap_future(future)
        except Exception:
            owner = self._owner
            logger.warning(
                "usage of an LLM call of run %s step %s not kept",
                owner.run_id,
                owner.step_id,
                exc_info=True,
            )

    def row_of(self, call: LLMCall) -> LlmUsageRow:
        """The call's row, for a transaction that keeps it with the call's journal record."""
        owner, usage = self._owner, call.usage
        return LlmUsageRow(
            workspace=owner.workspace,
            run_id=owner.run_id,
            step_id=owner.step_id,
            workflow_id=owner.workflow_id,
            workflow_name=owner.workflow_name,
            model_config_name=owner.model_config_name,
            model=call.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            total_tokens=usage.total_tokens,
            cost_micros=usage.cost_micros,
            created_at=call.started_at,
        )

    async def _insert(self, call: LLMCall) -> None:
        row = self.row_of(call)
        async with self._blobs.writing(), self._blobs.sessions() as session, session.begin():
            UsageRepository(session, row.workspace).add(row)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
