"""Group commit: saves that arrive together are written in one transaction.

The PostgreSQL recorder lets one inserting transaction run at a time (so notification order is
commit order), and every commit waits for the disk. Throughput therefore comes from putting
more events in one transaction: the first caller to find no commit running becomes the leader
and writes everything queued so far at once; the others wait for their result. A batch that
fails is retried one save at a time, so one caller's conflict is never another caller's error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Recording

Save = Callable[..., list[Recording[Any]]]  # Application.save given domain events


@dataclass
class _Pending:
    events: Sequence[Any]
    done: bool = False
    recordings: list[Recording[Any]] = field(default_factory=list)
    error: BaseException | None = None


class GroupCommit:
    """Batches concurrent calls of `save(*objects)` into one call, up to `max_batch` saves."""

    def __init__(self, save: Save, max_batch: int = 64) -> None:
        self._save = save
        self._max_batch = max_batch
        self._queue: list[_Pending] = []
        self._leading = False
        self._changed = threading.Condition()

    def save(self, *aggregates: Any) -> list[Recording[Any]]:
        """Save the aggregates' new events atomically, maybe in one transaction with others'."""
        # Collected here, once: a batch that fails is retried from these events, not the aggregates.
        mine = _Pending([event for aggregate in aggregates for event in aggregate.collect_events()])
        with self._changed:
            self._queue.append(mine)
        while True:
            with self._changed:
                while not mine.done and self._leading:
                    self._changed.wait()
                if mine.done:
                    break
                self._leading = True
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                self._commit(batch)
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()
        if mine.error is not None:
            raise mine.error
        return mine.recordings

    def _commit(self, batch: list[_Pending]) -> None:
        if len(batch) > 1:
            try:
                recordings = self._save(*[event for pending in batch for event in pending.events])
            except Exception:
                pass  # one save in the batch failed the whole transaction: redo them one by one
            else:
                start = 0
                for pending in batch:  # the store answers in the order it was given the events
                    pending.recordings = recordings[start : start + len(pending.events)]
                    start += len(pending.events)
                    pending.done = True
                return
        for pending in batch:
            try:
                pending.recordings = self._save(*pending.events)
            except BaseException as error:  # handed to the caller that owns this save
                pending.error = error
            pending.done = True
