"""Group commit: concurrent saves share one transaction; one caller's conflict stays its own."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.group_commit import GroupCommit


class Item(Aggregate):
    """A bare aggregate to save."""

    def __init__(self, n: int) -> None:
        self.n = n


def test_concurrent_saves_are_written_together_and_each_gets_its_own_recordings() -> None:
    """Twenty threads saving at once need fewer store calls than saves, and each gets its events."""
    calls: list[int] = []
    release = threading.Event()

    def save(*events: Any) -> list[Any]:
        calls.append(len(events))
        release.wait(1)  # hold the first commit so the others queue behind it
        return [("recorded", e.originator_id) for e in events]

    group = GroupCommit(save)
    items = [Item(n) for n in range(20)]
    results: dict[int, list[Any]] = {}

    def work(item: Item) -> None:
        results[item.n] = group.save(item)

    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert sum(calls) == 20 and len(calls) < 20
    assert all(results[i.n] == [("recorded", i.id)] for i in items)


def test_a_failing_save_in_a_batch_fails_only_its_own_caller() -> None:
    """When the batch is refused, each save is retried alone and only the bad one raises."""
    bad, also_bad = Item(13), Item(13)

    def save(*events: Any) -> list[Any]:
        if any(e.originator_id in (bad.id, also_bad.id) for e in events):
            raise IntegrityError("conflict")
        return list(events)

    group = GroupCommit(save)
    good = Item(1)
    assert len(group.save(good)) == 1
    with pytest.raises(IntegrityError):
        group.save(bad)
    outcomes: dict[int, str] = {}
    gate = threading.Barrier(10)

    def work(item: Item) -> None:
        gate.wait()
        try:
            group.save(item)
            outcomes[item.n] = "ok"
        except IntegrityError:
            outcomes[item.n] = "conflict"

    others = [Item(n) for n in range(100, 109)] + [also_bad]
    threads = [threading.Thread(target=work, args=(i,)) for i in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.pop(13) == "conflict" and set(outcomes.values()) == {"ok"}
