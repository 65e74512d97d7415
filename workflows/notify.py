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

SEND_WEBHOOK = "send_webhook"


class WebhookInput(BaseModel):
    url: str
    payload: dict[str, Any]


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
