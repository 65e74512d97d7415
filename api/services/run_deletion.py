"""Deleting a run for good: every Temporal execution of it (its continue-as-new chain)
and everything Kasal keeps beside them (outputs, transcripts, payloads, the call journal).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Unavailable
from api.services.run_access import RunAccess
from api.temporal import TemporalGateway
from db.base import utcnow
from db.blobs import BlobStore
from db.call_journal import CallJournal
from kasal.settings import Settings

# Rows written after the deletion started (a step still finishing) are caught too.
_LATE_WRITES = timedelta(minutes=5)


class RunDeleter(RunAccess):
    def __init__(
        self, temporal: TemporalGateway, settings: Settings, blobs: BlobStore, workspace: str
    ) -> None:
        super().__init__(temporal, settings, workspace)
        self.blobs = blobs

    async def delete(self, run_id: str) -> None:
        """Terminate the run if it is open, delete its executions from Temporal, then its
        blobs and journal. 404 for another workspace's run, as for any unknown one."""
        handle = await self._handle(run_id)
        await self._describe(handle)
        client = await self.temporal.client()
        executions = [
            execution.run_id
            async for execution in client.list_workflows(f"WorkflowId = '{run_id}'")
        ]
        for execution_run_id in executions:
            request = DeleteWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=run_id, run_id=execution_run_id),
            )
            try:
                # Temporal terminates an open execution before it deletes it.
                await client.workflow_service.delete_workflow_execution(request)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise Unavailable(f"Temporal did not delete the run: {err.message}") from None
        before = utcnow() + _LATE_WRITES
        await self.blobs.delete_blobs_of_runs([run_id], created_before=before)
        await CallJournal(self.blobs).delete_runs([run_id], before)
