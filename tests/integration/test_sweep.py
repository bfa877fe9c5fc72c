"""The deadline sweep: each missed deadline recorded once, by one of several schedulers."""

from __future__ import annotations

import threading
from datetime import date

from petitions.bootstrap import Container
from scheduler.jobs import sweep_deadlines
from scheduler.runner import acting, run_once
from tests.integration.conftest import catch_up
from tests.support import registration


def test_two_schedulers_record_each_missed_deadline_once(schedulers: list[Container]) -> None:
    """Two sweeps at once, then a third later, record one DeadlineMissed per passed deadline."""
    first = schedulers[0]
    clock = first.petitions.clock
    ids = []
    for _ in range(8):
        pid = first.petitions.register(**registration(receiving_unit="county",
                                                      location_unit="county")).petition.id
        first.petitions.assign(pid, actor="r", unit="county", person="h", mode="assign")
        ids.append(pid)
    first.petitions.accept(ids[0], actor="h")  # its acceptance clock is met, not missed
    catch_up(first)
    clock.advance(days=25)  # type: ignore[attr-defined]
    today = date(2026, 9, 26)
    threads = [threading.Thread(target=sweep_deadlines, args=(c, today)) for c in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    catch_up(first)
    assert sweep_deadlines(first, today) == 0  # nothing left due: the index shows them missed
    for pid in ids:
        history = first.petitions.history(pid)
        missed = [h.data["clock"] for h in history if h.type == "DeadlineMissed"]
        # Triage was met by the assignment; acceptance was missed, except by the case accepted
        # in time, whose handling clock is not yet due.
        assert missed == ([] if pid == ids[0] else ["acceptance"]), pid


def test_only_the_scheduler_holding_the_lock_acts(schedulers: list[Container], store: str) -> None:
    """On PostgreSQL a second scheduler stands by while the first holds the advisory lock."""
    first, second = schedulers
    with acting(first) as held:
        assert held
        done = run_once(second)
        # The embedded SQLite mode is one process: there is no second scheduler to keep out.
        assert (done == {}) is (store == "postgres")
    assert "deadline_sweep" in run_once(second)
