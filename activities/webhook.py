"""The ``send_webhook`` activity: one signed HTTP POST of a run's event."""

from __future__ import annotations

import json
import time

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.egress import EgressRefused, guarded_client
from db.secrets import SecretBox
from db.webhook_signing import SIGNATURE_HEADER, signature, webhook_secret
from workflows.egress import EgressPolicy
from workflows.notify import SEND_WEBHOOK, WebhookInput

WEBHOOK_TIMEOUT_SECONDS = 10


class WebhookSender:
    """Posts run events where the egress policy allows, signed with the run's workspace
    secret when the worker holds the instance key (``kasal worker`` always does)."""

    def __init__(self, egress: EgressPolicy, secrets: SecretBox | None) -> None:
        self._egress = egress
        self._secrets = secrets

    @activity.defn(name=SEND_WEBHOOK)
    async def send_webhook(self, input: WebhookInput) -> None:
        """An activity because it is network I/O that Temporal retries until it lands."""
        # The bytes signed are the bytes sent. Each attempt signs afresh: a receiver that
        # refuses old timestamps still takes a delivery retried hours later.
        body = json.dumps(input.payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if self._secrets is not None:
            secret = webhook_secret(self._secrets, input.workspace)
            headers[SIGNATURE_HEADER] = signature(secret, int(time.time()), body)
        try:
            async with guarded_client(self._egress, timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
                response = await client.post(input.url, content=body, headers=headers)
        except EgressRefused as exc:
            # The policy will refuse it again: only a new URL or setting helps.
            raise ApplicationError(
                f"webhook {input.url}: {exc}", type="EgressRefused", non_retryable=True
            ) from None
        if response.is_success:
            return
        # A receiver that refuses the request outright will refuse it again.
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
        raise ApplicationError(
            f"webhook {input.url} answered {response.status_code}",
            type="WebhookRefused",
            non_retryable=permanent,
        )
