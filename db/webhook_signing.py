"""Signed webhooks: each workspace's secret, and the ``X-Kasal-Signature`` header.

The worker signs every POST; the API tells an admin the secret to verify with
(api/services/webhook_secrets.py). Both derive it here from the instance's secret key,
so it is stored nowhere and never crosses Temporal.

The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, as Stripe's.
Signing the timestamp with the body lets a receiver refuse an old delivery replayed
later: it checks the signature, then that ``t`` is recent.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from db.secrets import SecretBox

SIGNATURE_HEADER = "X-Kasal-Signature"
# A receiver should refuse a delivery signed longer ago than this (README).
SIGNATURE_TOLERANCE_SECONDS = 300
_LABEL = "kasal-webhook:"


def webhook_secret(secret_box: SecretBox, workspace_id: str) -> str:
    """The secret that signs ``workspace_id``'s webhooks: HMAC(instance key,
    "kasal-webhook:" + workspace id), in hex, which receivers use as the HMAC key."""
    return secret_box.derive(_LABEL + workspace_id).hex()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Kasal-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, no more than ``tolerance``
    seconds ago: a replayed old delivery is refused even though its signature holds."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
