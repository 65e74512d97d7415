"""Classify LLM failures for Temporal: retry what may pass, stop at once on what cannot.

Messages name the model config and the cause, and never carry an API key, even
when a provider echoes the key back in its error body.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import litellm.exceptions as llm_exc
from temporalio.exceptions import ApplicationError

from activities.model_registry import ModelConfig

_PERMANENT: tuple[type[Exception], ...] = (
    llm_exc.AuthenticationError,
    llm_exc.PermissionDeniedError,
    llm_exc.BadRequestError,  # includes context-window and content-policy errors
    llm_exc.NotFoundError,
    llm_exc.UnprocessableEntityError,
)
_KEY_LIKE = re.compile(
    r"(?i)\b(sk|pk|rk|dapi|xai|gsk|key)[-_][A-Za-z0-9_\-\*\.]{6,}|\bBearer\s+\S+|\bAIza[0-9A-Za-z_\-]{20,}"
)
REDACTED = "[redacted]"
# litellm repeats the class name: "litellm.AuthenticationError: AuthenticationError: …".
_LITELLM_PREFIX = re.compile(r"^(litellm\.\w+: )?(\w+Error: )?")


def redact(text: str, secret: str | None) -> str:
    if secret and len(secret) >= 4:
        text = text.replace(secret, REDACTED)
    return _KEY_LIKE.sub(REDACTED, text)


def classify(exc: BaseException, config: ModelConfig, attempt: int) -> ApplicationError:
    """The ApplicationError to raise for ``exc``; ``attempt`` travels in its details."""
    secret = config.api_key.get_secret_value() if config.api_key else None
    cause = _LITELLM_PREFIX.sub("", redact(str(exc).strip(), secret)) or type(exc).__name__
    message = f"model '{config.name}' ({config.model}): {type(exc).__name__}: {cause}"
    permanent = isinstance(exc, _PERMANENT)
    return ApplicationError(
        message,
        attempt,
        type=type(exc).__name__,
        non_retryable=permanent,
        next_retry_delay=None if permanent else retry_after(exc),
    )


def retry_after(exc: BaseException) -> timedelta | None:
    """The provider's Retry-After, in seconds or as an HTTP date, if it sent one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or getattr(exc, "headers", None) or {}
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return None
    try:
        return timedelta(seconds=max(float(value), 0))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment - datetime.now(UTC), timedelta(0))
