"""Schedules, kept by Temporal alone: a Temporal Schedule per Kasal schedule, no table.

Each fires ScheduledRunWorkflow (workflows/scheduled_run.py) with fixed arguments (the
workspace, the workflow, `latest` or a version, the inputs); the launcher compiles and
starts the run. What a schedule answers comes from Temporal's describe: its spec and
policies, its state, the next times and recent actions. The workspace, the workflow's
id and name are the schedule's search attributes (the list filters on the workspace);
the cron expression, which Temporal keeps only as calendars, rides in the action's memo.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from typing import Any

from fastapi.exceptions import RequestValidationError
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from api.errors import NotFound, Unavailable
from api.schemas.schedules import (
    BackfillRequest,
    Overlap,
    ScheduledRun,
    SchedulePage,
    ScheduleRead,
    ScheduleWrite,
)
from api.services.run_starting import RunStarter
from workflows.plan import RunMeta
from workflows.run_launch import scheduled_run_id
from workflows.scheduled_run import ScheduledRunInput, ScheduledRunWorkflow
from workflows.search_attributes import (
    KASAL_SCHEDULE_ID,
    KASAL_WORKFLOW_ID,
    KASAL_WORKFLOW_NAME,
    KASAL_WORKSPACE,
)

OVERLAPS: dict[Overlap, ScheduleOverlapPolicy] = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
}
OVERLAP_NAMES = {policy: name for name, policy in OVERLAPS.items()}
CRON_MEMO = "kasal_cron"


def _invalid(field: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": msg, "type": "value_error"}])


class ScheduleService:
    def __init__(self, starter: RunStarter) -> None:
        # The API's own compile checks a schedule's version and inputs when it is saved.
        self.starter = starter
        self.settings = starter.settings
        self.workspace = starter.workspace

    async def get_all(self) -> SchedulePage:
        """The workspace's schedules, newest first (Temporal's list, then each described)."""
        client = await self.starter.temporal.client()
        query = f"{KASAL_WORKSPACE.name} = '{self.workspace}'"
        try:
            ids = [listed.id async for listed in await client.list_schedules(query)]
            described = await asyncio.gather(*(self._describe(client, i) for i in ids))
        except RPCError as err:
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        except NotFound:
            # Deleted between the list and the describe: list again without it.
            return await self.get_all()
        items = [await self._read(client, d) for d in described]
        return SchedulePage(items=sorted(items, key=lambda s: s.created_at, reverse=True))

    async def get(self, schedule_id: str) -> ScheduleRead:
        client = await self.starter.temporal.client()
        return await self._read(client, await self._describe(client, schedule_id))

    async def create(self, workflow_id: uuid.UUID, body: ScheduleWrite) -> ScheduleRead:
        """Check the version and inputs compile, then create the Temporal Schedule."""
        meta = await self._check(workflow_id, body)
        client = await self.starter.temporal.client()
        schedule_id = f"schedule-{uuid.uuid4()}"
        schedule = self._schedule(schedule_id, meta, body, paused=bool(body.paused))
        try:
            await client.create_schedule(
                schedule_id, schedule, search_attributes=self._attributes(meta)
            )
        except RPCError as err:
            raise self._refused(err, body) from None
        return await self.get(schedule_id)

    async def update(self, schedule_id: str, body: ScheduleWrite) -> ScheduleRead:
        """Replace the schedule's timing, version, inputs and policies; its workflow stays,
        and so does its paused state unless the body says."""
        client = await self.starter.temporal.client()
        current = await self._read(client, await self._describe(client, schedule_id))
        meta = await self._check(current.workflow_id, body)
        paused = current.paused if body.paused is None else body.paused
        schedule = self._schedule(schedule_id, meta, body, paused=paused)

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule, search_attributes=self._attributes(meta))

        try:
            await client.get_schedule_handle(schedule_id).update(replace)
        except RPCError as err:
            raise self._refused(err, body) from None
        return await self.get(schedule_id)

    async def delete(self, schedule_id: str) -> None:
        """The schedule goes; runs it started stay, and finish."""
        handle = await self._handle(schedule_id)
        await self._call(handle.delete())

    async def delete_of_workflow(self, workflow_id: uuid.UUID) -> int:
        """Every schedule of a workflow that is being deleted: none fires for it again.
        How many went."""
        client = await self.starter.temporal.client()
        query = (
            f"{KASAL_WORKSPACE.name} = '{self.workspace}' "
            f"AND {KASAL_WORKFLOW_ID.name} = '{workflow_id}'"
        )
        try:
            ids = [listed.id async for listed in await client.list_schedules(query)]
        except RPCError as err:
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        for schedule_id in ids:
            with contextlib.suppress(NotFound):  # deleted meanwhile: gone all the same
                await self._call(client.get_schedule_handle(schedule_id).delete())
        return len(ids)

    async def pause(self, schedule_id: str, note: str) -> ScheduleRead:
        await self._call((await self._handle(schedule_id)).pause(note=note))
        return await self.get(schedule_id)

    async def unpause(self, schedule_id: str, note: str) -> ScheduleRead:
        await self._call((await self._handle(schedule_id)).unpause(note=note))
        return await self.get(schedule_id)

    async def trigger(self, schedule_id: str) -> None:
        """A run now, under the schedule's overlap policy (paused or not)."""
        await self._call((await self._handle(schedule_id)).trigger())

    async def backfill(self, schedule_id: str, body: BackfillRequest) -> None:
        """Runs for the times the schedule names between start_at and end_at, now."""
        if body.end_at <= body.start_at:
            raise _invalid("end_at", "must be after start_at")
        overlap = OVERLAPS[body.overlap] if body.overlap else None
        backfill = ScheduleBackfill(start_at=body.start_at, end_at=body.end_at, overlap=overlap)
        await self._call((await self._handle(schedule_id)).backfill(backfill))

    async def _check(self, workflow_id: uuid.UUID, body: ScheduleWrite) -> RunMeta:
        """Exactly one of cron and interval; the version and inputs compile now (404, 422)."""
        if (body.cron is None) == (body.interval is None):
            raise _invalid("cron", "send exactly one of cron and interval")
        version = None if body.version == "latest" else body.version
        plan = await self.starter.compile(workflow_id, version, body.inputs)
        return plan.meta

    def _schedule(
        self, schedule_id: str, meta: RunMeta, body: ScheduleWrite, *, paused: bool
    ) -> Schedule:
        launch = ScheduledRunInput(
            schedule_id=schedule_id,
            workspace=self.workspace,
            workflow_id=meta.workflow_id,
            version=None if body.version == "latest" else body.version,
            inputs=body.inputs,
        )
        if body.cron is not None:
            spec = ScheduleSpec(cron_expressions=[body.cron], time_zone_name=body.time_zone)
        else:
            every = timedelta(seconds=body.interval or 0)
            spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)])
        return Schedule(
            action=ScheduleActionStartWorkflow(
                ScheduledRunWorkflow.run,
                launch,
                # Temporal adds each firing's time: the launchers' ids.
                id=schedule_id,
                task_queue=self.settings.KASAL_TASK_QUEUE,
                memo={CRON_MEMO: body.cron} if body.cron is not None else None,
                typed_search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(KASAL_WORKSPACE, self.workspace),
                        SearchAttributePair(KASAL_SCHEDULE_ID, schedule_id),
                    ]
                ),
                static_summary=f"Kasal schedule {schedule_id}",
            ),
            spec=spec,
            policy=SchedulePolicy(
                overlap=OVERLAPS[body.overlap],
                catchup_window=timedelta(seconds=body.catchup_window),
            ),
            state=ScheduleState(paused=paused),
        )

    def _attributes(self, meta: RunMeta) -> TypedSearchAttributes:
        return TypedSearchAttributes(
            [
                SearchAttributePair(KASAL_WORKSPACE, self.workspace),
                SearchAttributePair(KASAL_WORKFLOW_ID, meta.workflow_id),
                SearchAttributePair(KASAL_WORKFLOW_NAME, meta.workflow_name),
            ]
        )

    @staticmethod
    def _refused(err: RPCError, body: ScheduleWrite) -> Exception:
        """Temporal checks the cron expression (and the interval) itself."""
        if err.status == RPCStatusCode.INVALID_ARGUMENT:
            return _invalid("cron" if body.cron is not None else "interval", err.message)
        return Unavailable(f"Temporal did not answer: {err.message}")

    async def _handle(self, schedule_id: str) -> ScheduleHandle:
        """The handle of a schedule of this workspace (404 for any other)."""
        client = await self.starter.temporal.client()
        await self._describe(client, schedule_id)
        return client.get_schedule_handle(schedule_id)

    async def _describe(self, client: Client, schedule_id: str) -> ScheduleDescription:
        try:
            description = await client.get_schedule_handle(schedule_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no schedule {schedule_id}") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        # Schedules of other workspaces, and Temporal's own that are not Kasal's
        # (blob retention), answer as if they did not exist.
        if description.typed_search_attributes.get(KASAL_WORKSPACE) != self.workspace:
            raise NotFound(f"no schedule {schedule_id}")
        return description

    @staticmethod
    async def _call(operation: Any) -> None:
        try:
            await operation
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFound("no such schedule") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None

    async def _read(self, client: Client, description: ScheduleDescription) -> ScheduleRead:
        schedule = description.schedule
        action = schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        [launch] = await client.data_converter.decode(action.args, [ScheduledRunInput])
        cron: str | None = None
        if action.memo and CRON_MEMO in action.memo:
            [cron] = await client.data_converter.decode([action.memo[CRON_MEMO]], [str])
        intervals = schedule.spec.intervals
        info = description.info
        catchup = schedule.policy.catchup_window
        attributes = description.typed_search_attributes
        return ScheduleRead(
            id=description.id,
            workflow_id=uuid.UUID(launch.workflow_id),
            workflow_name=attributes.get(KASAL_WORKFLOW_NAME) or "",
            cron=cron,
            interval=int(intervals[0].every.total_seconds()) if intervals else None,
            time_zone=schedule.spec.time_zone_name or "UTC",
            inputs=launch.inputs,
            version=launch.version or "latest",
            overlap=OVERLAP_NAMES[schedule.policy.overlap],
            catchup_window=int(catchup.total_seconds()) if catchup else 0,
            paused=schedule.state.paused,
            note=schedule.state.note,
            next_action_times=list(info.next_action_times),
            recent_actions=[
                ScheduledRun(
                    run_id=scheduled_run_id(result.action.first_execution_run_id),
                    scheduled_at=result.scheduled_at,
                    started_at=result.started_at,
                )
                for result in info.recent_actions
            ],
            running=[scheduled_run_id(r.first_execution_run_id) for r in info.running_actions],
            num_actions=info.num_actions,
            created_at=info.created_at,
        )
