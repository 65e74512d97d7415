"""Sign-in attempts per client address: a few failures are typing, many are guessing."""

from __future__ import annotations

import time
from collections import defaultdict, deque

MAX_FAILURES = 10
WINDOW_SECONDS = 300.0


class SignInLimiter:
    """In-process: each API process counts its own (enough to make guessing slow)."""

    def __init__(
        self, max_failures: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def blocked(self, client: str) -> bool:
        failures = self._failures[client]
        cutoff = time.monotonic() - self.window_seconds
        while failures and failures[0] < cutoff:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return False
        return len(failures) >= self.max_failures

    def failed(self, client: str) -> None:
        self._failures[client].append(time.monotonic())
