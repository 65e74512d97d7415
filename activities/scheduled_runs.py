"""The ``compile_scheduled_run`` activity: a schedule's version, compiled when it fires.

An activity because compiling reads the workspace's definitions, model configs and tools
from the database; it compiles as the API does when a run starts (db/run_plans.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.run_plans import VersionMissing, compile_version
from db.secrets import SecretBox
from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.compiler import CompilationFailed
from workflows.plan import Plan
from workflows.scheduled_run import COMPILE_SCHEDULED_RUN, ScheduledRunInput


class ScheduledRunActivities:
    def __init__(
        self, sessions: async_sessionmaker[Any], secrets: SecretBox, settings: Settings
    ) -> None:
        self._sessions = sessions
        self._secrets = secrets
        self._settings = settings

    @activity.defn(name=COMPILE_SCHEDULED_RUN)
    async def compile_scheduled_run(self, launch: ScheduledRunInput) -> Plan:
        try:
            return await compile_version(
                UnitOfWork(self._sessions, launch.workspace),
                self._secrets,
                self._settings,
                uuid.UUID(launch.workflow_id),
                launch.version,
                launch.inputs,
            )
        except (VersionMissing, CompilationFailed) as exc:
            # Deleted, or no longer fitting the schedule's inputs: no retry will change it.
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from None
