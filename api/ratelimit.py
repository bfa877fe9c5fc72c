"""A per-client sliding-window limit for the routes that anyone can call."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request


class RateLimited:
    """Dependency: at most `per_minute` calls a minute from one client address to one bucket."""

    def __init__(self, bucket: str, per_minute: int | None = None) -> None:
        self.bucket, self.per_minute = bucket, per_minute
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> None:
        limit = self.per_minute or request.app.state.container.settings.progress_per_minute
        client = request.client.host if request.client else "unknown"
        now = time.monotonic()
        with self._lock:
            calls = self._calls[client]
            while calls and calls[0] <= now - 60:
                calls.popleft()
            if len(calls) >= limit:
                raise HTTPException(429, "too many requests; please wait a minute and try again",
                                    headers={"Retry-After": str(int(60 - (now - calls[0])) + 1)})
            calls.append(now)
            if len(self._calls) > 10000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._calls.items() if not v or v[-1] <= now - 60]:
                    del self._calls[key]
