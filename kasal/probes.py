"""Bounded waiting for services to answer: one loop, so no wait in the CLI is unbounded."""

from __future__ import annotations

import http.client
import time
import urllib.request
from collections.abc import Callable

POLL_INTERVAL_SECONDS = 0.2


class NotReadyError(RuntimeError):
    """Something did not become ready within its time limit."""


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    check: Callable[[], None] = lambda: None,
    interval: float = POLL_INTERVAL_SECONDS,
) -> None:
    """Poll ``condition`` until it holds, or raise NotReadyError after ``timeout`` seconds.

    ``what`` completes "gave up waiting for …". ``check`` runs before every poll and
    raises when waiting has become pointless, for example because the process that
    should answer has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        check()
        if condition():
            return
        if time.monotonic() > deadline:
            raise NotReadyError(f"gave up waiting for {what} after {timeout:.0f}s")
        time.sleep(interval)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether a GET of ``url`` answers 200 (not an error status, a refusal or a timeout)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):
        return False
