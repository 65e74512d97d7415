"""A workspace's webhook secret, for an admin to configure a receiver with.

Derived, never stored: the worker derives the same secret to sign (db/webhook_signing.py),
so what the API shows is what the worker signs with.
"""

from __future__ import annotations

from db.secrets import SecretBox
from db.webhook_signing import SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS
from db.webhook_signing import webhook_secret as _derived_secret

__all__ = ["SIGNATURE_HEADER", "SIGNATURE_TOLERANCE_SECONDS", "webhook_secret"]


def webhook_secret(secret_box: SecretBox, workspace_id: str) -> str:
    """The secret that signs the webhooks of ``workspace_id``'s runs (admins only: anyone
    who has it can forge the workspace's webhooks)."""
    return _derived_secret(secret_box, workspace_id)
