"""Serial numbers per year, handed out in order and re-synchronised when another process took one."""

from __future__ import annotations

import threading
from collections.abc import Callable


class SerialAllocator:
    """Next free serial of a year; `taken(year, serial)` asks the store whether a serial is used."""

    def __init__(self, taken: Callable[[int, int], bool]) -> None:
        self._taken = taken
        self._next: dict[int, int] = {}
        self._lock = threading.Lock()

    def allocate(self, year: int) -> int:
        """A serial no caller of this process has had; the store's unique index has the last word."""
        with self._lock:
            serial = self._next.get(year) or self._first_free(year, 1)
            self._next[year] = serial + 1
            return serial

    def skip_taken(self, year: int, serial: int) -> None:
        """Another process took `serial`: continue from the first free serial after it."""
        with self._lock:
            self._next[year] = self._first_free(year, serial + 1)

    def give_back(self, year: int, serial: int) -> None:
        """`serial` went unused: hand it out next, unless a later one was handed out meanwhile."""
        with self._lock:
            if self._next.get(year) == serial + 1:
                self._next[year] = serial

    def _first_free(self, year: int, start: int) -> int:
        # Serials are taken in order, so gallop then bisect: O(log n) look-ups.
        if not self._taken(year, start):
            return start
        low, step = start, 1
        while self._taken(year, low + step):
            low, step = low + step, step * 2
        high = low + step  # low is taken, high is free
        while high - low > 1:
            mid = (low + high) // 2
            if self._taken(year, mid):
                low = mid
            else:
                high = mid
        return high
