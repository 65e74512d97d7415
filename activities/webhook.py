"""The ``send_webhook`` activity: one HTTP POST of a run's event."""

from __future__ import annotations

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.notify import SEND_WEBHOOK, WebhookInput

WEBHOOK_TIMEOUT_SECONDS = 10


@activity.defn(name=SEND_WEBHOOK)
async def send_webhook(input: WebhookInput) -> None:
    """An activity because it is network I/O that Temporal retries until it lands."""
    async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
        response = await client.post(input.url, json=input.payload)
    if response.is_success:
        return
    # A receiver that refuses the request outright will refuse it again.
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    raise ApplicationError(
        f"webhook {input.url} answered {response.status_code}",
        type="WebhookRefused",
        non_retryable=permanent,
    )
