"""Turning stored model-config rows into the config a step runs with."""

from __future__ import annotations

from typing import Any

from db.models import ModelConfigRow
from db.secrets import SecretBox


def decrypted_config(row: ModelConfigRow, box: SecretBox) -> dict[str, Any]:
    """The row as plain fields, API key decrypted: for the worker only, never for a response."""
    return {
        "name": row.name,
        "model": row.model,
        "api_base": row.api_base,
        "api_key": box.decrypt(row.api_key_encrypted) if row.api_key_encrypted else None,
        "temperature": row.temperature,
        "max_tokens": row.max_tokens,
        "params": row.params or {},
        "function_calling": row.function_calling or "auto",
    }
