"""The scheduler's jobs under a clock the test moves: due-soon warnings, revisit reminders,
closing lapsed cases, supervision of cases overdue beyond the grace, and catching up after downtime."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from petitions.bootstrap import Container, build
from projections import deadline_index as index
from projections.board import board
from scheduler import jobs, runner
from scheduler.runner import run_once
from tests.integration.conftest import catch_up
from tests.support import FakeClock, registration


def clock_of(container: Container) -> FakeClock:
    clock = container.petitions.clock
    assert isinstance(clock, FakeClock)
    return clock


def today(container: Container) -> date:
    return container.petitions.policy.office_date(clock_of(container).now)


def new_case(container: Container, *steps: tuple[str, dict[str, Any]]) -> UUID:
    """A case registered now, assigned to town1's handler, then taken through `steps`."""
    petitions = container.petitions
    pid = petitions.register(**registration(received_at=clock_of(container).now,
                                            receiving_unit="county", location_unit="town1")).petition.id
    petitions.assign(pid, actor="reception1", unit="town1", person="handler1", mode="assign")
    for command, kwargs in steps:
        clock_of(container).advance(hours=1)
        getattr(petitions, command)(pid, actor="handler1", **kwargs)
    return pid


def events(container: Container, pid: UUID, kind: str) -> list[dict[str, Any]]:
    return [h.data for h in container.petitions.history(pid) if h.type == kind]


def standing(container: Container, rule: str) -> set[str]:
    catch_up(container)
    rows = board(container.views, "/", datetime.now().astimezone(), rule=rule)
    return {r["case_number"] for r in rows}


def caught_up(job: Callable[[Container], int]) -> Callable[[Container], int]:
    """The job after the views caught up (on PostgreSQL that is the projector process's work)."""
    def run(container: Container) -> int:
        catch_up(container)
        return job(container)

    return run


warn_due_soon = caught_up(jobs.warn_due_soon)
remind_revisits = caught_up(jobs.remind_revisits)
close_lapsed = caught_up(jobs.close_lapsed)
sweep_deadlines = caught_up(jobs.sweep_deadlines)
supervise_overdue = caught_up(jobs.supervise_overdue)
Step = tuple[str, dict[str, Any]]
ACCEPTED: Step = ("accept", {})
REPLIED: Step = ("reply", {"opinion": "support", "text": "支持诉求。"})
SERVED: Step = ("serve", {})


def test_due_soon_is_flagged_once_and_cleared_when_the_clock_is_met(schedulers: list[Container]) -> None:
    """Acceptance (15 days) is flagged with 3 days left, once; accepting clears the warning."""
    first = schedulers[0]
    pid = new_case(first)
    number = first.petitions.get(pid).case_number
    clock_of(first).advance(days=10)
    assert warn_due_soon(first) == 0  # five days left: not yet
    clock_of(first).advance(days=2)
    assert warn_due_soon(first) == 1
    assert warn_due_soon(first) == 0  # flagged already: nothing recorded twice
    [flag] = events(first, pid, "DeadlineApproaching")
    assert flag["clock"] == "acceptance" and flag["days_left"] <= 3
    assert number in standing(first, "due_soon")
    first.petitions.accept(pid, actor="handler1")
    assert number not in standing(first, "due_soon")


def test_revisits_are_reminded_apart_from_due_soon_warnings(schedulers: list[Container]) -> None:
    """The revisit clock (15 days after closure) gets a reminder; the due-soon job leaves it alone."""
    first = schedulers[0]
    pid = new_case(first, ACCEPTED, REPLIED, SERVED)
    clock_of(first).advance(days=40)  # past the window (moved past the National Day holiday)
    first.petitions.close_case(pid, actor="handler1", reason="期满未申请复查")
    clock_of(first).advance(days=13)
    assert warn_due_soon(first) == 0
    assert remind_revisits(first) == 1
    assert remind_revisits(first) == 0
    assert [e["clock"] for e in events(first, pid, "DeadlineApproaching")] == ["revisit"]


def test_a_served_case_is_closed_once_its_review_window_passed(schedulers: list[Container]) -> None:
    """Not before the 30-day window has passed; then closed by the system, once."""
    first = schedulers[0]
    pid = new_case(first, ACCEPTED, REPLIED, SERVED)
    clock_of(first).advance(days=30)
    assert close_lapsed(first) == 0  # due 1 October, moved to the first working day after the holiday
    clock_of(first).advance(days=10)
    assert close_lapsed(first) == 1
    petition = first.petitions.get(pid)
    assert petition.status == "closed"
    [closed] = events(first, pid, "Closed")
    assert "no review was requested" in closed["reason"]
    assert close_lapsed(first) == 0


def test_a_case_overdue_beyond_the_grace_is_supervised_from_the_unit_above(
        schedulers: list[Container]) -> None:
    """Acceptance missed; after the 15-day grace the county orders supervision, once."""
    first = schedulers[0]
    pid = new_case(first)
    clock_of(first).advance(days=20)
    assert sweep_deadlines(first) == 1
    assert supervise_overdue(first) == 0  # missed 5 days ago: within the grace
    clock_of(first).advance(days=12)
    assert supervise_overdue(first) == 1
    assert supervise_overdue(first) == 0
    [order] = events(first, pid, "Supervised")
    assert order["by_unit"] == "county" and order["level"] == "yellow"
    assert "acceptance" in order["reason"]
    # Its feedback clock missed beyond the grace too: a red order follows.
    clock_of(first).advance(days=50)
    sweep_deadlines(first)
    assert supervise_overdue(first) == 1
    assert [o["level"] for o in events(first, pid, "Supervised")] == ["yellow", "red"]


def test_after_downtime_one_run_catches_up_on_everything(schedulers: list[Container]) -> None:
    """Sixty days without a scheduler: one run records the misses and orders supervision."""
    first = schedulers[0]
    waiting = new_case(first)
    served = new_case(first, ACCEPTED, REPLIED, SERVED)
    clock_of(first).advance(days=60)
    catch_up(first)
    done = run_once(first)
    assert done["deadline_sweep"] == 1 and done["overdue_supervision"] == 1
    assert done["close_lapsed"] == 1
    assert [e["clock"] for e in events(first, waiting, "DeadlineMissed")] == ["acceptance"]
    assert first.petitions.get(served).status == "closed"


def together(job: Callable[[Container], int], containers: list[Container]) -> None:
    """Run the job in every container at the same moment; fail on any error in any of them."""
    errors: list[BaseException] = []

    def run(container: Container) -> None:
        try:
            job(container)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in containers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_two_schedulers_at_once_take_each_step_once(schedulers: list[Container]) -> None:
    """Both processes run every job at the same moment; each step is recorded once."""
    first = schedulers[0]
    pids = [new_case(first) for _ in range(4)] + [new_case(first, ACCEPTED, REPLIED, SERVED)
                                                  for _ in range(2)]
    clock_of(first).advance(days=12)
    for job in [warn_due_soon, sweep_deadlines]:
        together(job, schedulers)
    for pid in pids[:4]:
        assert len(events(first, pid, "DeadlineApproaching")) == 1
    clock_of(first).advance(days=40)
    for job in [sweep_deadlines, supervise_overdue, close_lapsed]:
        together(job, schedulers)
    for pid in pids[:4]:
        assert len(events(first, pid, "DeadlineMissed")) == 1
        assert len(events(first, pid, "Supervised")) == 1
    for pid in pids[4:]:
        assert len(events(first, pid, "Closed")) == 1


def test_a_case_the_domain_refuses_does_not_hold_up_the_others(schedulers: list[Container],
                                                               store: str, tmp_path: Path) -> None:
    """A scheduler whose clock lags behind a case's last step skips that case, names it, goes on."""
    first = schedulers[0]
    stuck = new_case(first, ACCEPTED, REPLIED, SERVED)
    fine = new_case(first, ACCEPTED, REPLIED, SERVED)
    clock_of(first).advance(days=40)
    first.petitions.add_note(stuck, actor="handler1", text="电话联系", kind="other",
                             at=clock_of(first).now)
    lagging = FakeClock(clock_of(first).now - timedelta(hours=3))
    behind = build(first.settings, clock=lagging)
    try:
        catch_up(first)
        with capture_logs() as logs:
            assert jobs.close_lapsed(behind) == 1
        assert first.petitions.get(fine).status == "closed"
        assert first.petitions.get(stuck).status == "served"
        [refusal] = [e for e in logs if e["event"] == "scheduled_step_refused"]
        assert refusal["case"] == str(stuck) and refusal["job"] == "close_lapsed"
    finally:
        behind.close()


def test_a_failing_job_does_not_stop_the_jobs_after_it(schedulers: list[Container],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """run_once reports the failure under the job's name and still runs the rest."""
    def broken(container: Container) -> int:
        raise RuntimeError("views unreachable")

    monkeypatch.setitem(runner.JOBS, "deadline_sweep", broken)
    first = schedulers[0]
    new_case(first, ACCEPTED, REPLIED, SERVED)
    clock_of(first).advance(days=40)
    catch_up(first)
    done = run_once(first)
    assert isinstance(done["deadline_sweep"], RuntimeError)
    assert done["close_lapsed"] == 1


def test_the_deadline_index_pages_through_what_is_due_in_due_order(schedulers: list[Container]) -> None:
    """Pages of two: every overdue case once, earliest due first, none of the cases not yet due."""
    first = schedulers[0]
    late = []
    for _ in range(5):
        late.append(str(new_case(first)))
        clock_of(first).advance(days=1)
    not_yet = str(new_case(first))
    clock_of(first).advance(days=15)  # the first five acceptance clocks have passed, not the sixth
    catch_up(first)
    keys, after = [], ""
    while page := index.due_before(first.views, today(first), after=after, limit=2):
        keys += page
        after = page[-1]
    assert [index.case_of(k) for k in keys] == late and not_yet not in keys
    assert keys == sorted(keys)
