"""NotifyWorkflow: deliver one webhook, retried for hours, without holding up the run.

A run starts one of these as an abandoned child for each event, so a webhook that is
down never blocks the run, and a run that closes still gets its last event delivered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

from workflows.plan import RunMeta

SEND_WEBHOOK = "send_webhook"


class WebhookInput(BaseModel):
    url: str
    payload: dict[str, Any]
    # Whose secret signs the POST (X-Kasal-Signature); inputs written before it lack it.
    workspace: str = "default"


@workflow.defn(name="NotifyWorkflow")
class NotifyWorkflow:
    """Posts one event to a webhook, retrying with backoff for up to a day."""

    @workflow.run
    async def run(self, input: WebhookInput) -> None:
        await workflow.execute_activity(
            SEND_WEBHOOK,
            input,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(days=1),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1),
                backoff_coefficient=2.0,
                maximum_interval=timedelta(minutes=10),
            ),
            summary=f"{input.payload.get('event', 'event')} → webhook",
        )


async def start_notification(
    meta: RunMeta, sequence: int, event: str, status: str, step_id: str | None
) -> None:
    """Start a NotifyWorkflow for the event; it outlives the run and never blocks it.

    ``sequence`` numbers the run's notifications, so each child has an id of its own.
    """
    if not meta.webhook_url:
        return
    info = workflow.info()
    payload = {
        "event": event,
        "run_id": info.workflow_id,
        "workflow": {"id": meta.workflow_id, "name": meta.workflow_name, "version": meta.version},
        "step_id": step_id,
        "status": status,
        "web_url": (
            f"{meta.temporal_web_url}/namespaces/{info.namespace}/workflows/"
            f"{info.workflow_id}/{info.run_id}/history"
            if meta.temporal_web_url
            else None
        ),
        # The app routes by hash: this is the link that opens the run's console.
        "app_url": f"{meta.app_url}/#/runs/{info.workflow_id}" if meta.app_url else None,
    }
    await workflow.start_child_workflow(
        NotifyWorkflow.run,
        WebhookInput(url=meta.webhook_url, payload=payload, workspace=meta.workspace),
        id=f"{info.workflow_id}-notify-{info.run_id}-{sequence}",
        parent_close_policy=ParentClosePolicy.ABANDON,
        static_summary=f"{event} → webhook",
    )
