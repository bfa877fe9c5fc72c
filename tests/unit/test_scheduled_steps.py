"""The steps the scheduler takes on one case: each recorded once, and undone by what ends it."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from tests.support import Office


def flags(office: Office, pid: UUID) -> list[str]:
    return [h.data["clock"] for h in office.service.history(pid) if h.type == "DeadlineApproaching"]


def test_a_deadline_is_flagged_due_soon_once_at_three_days_or_a_fifth_left(office: Office) -> None:
    """Handling (60 days) is flagged at 12 days left (a fifth), not at 13; never twice."""
    pid = office.case_in("accepted")
    due = office.service.get(pid).current("handling").due  # type: ignore[union-attr]
    share = office.service.warning_rules().due_soon_share
    days = office.service.warning_rules().due_soon_days
    office.service.notice_approaching(pid, days=days, share=share, today=due - timedelta(days=13))
    assert flags(office, pid) == []
    outcome = office.service.notice_approaching(pid, days=days, share=share,
                                                today=due - timedelta(days=12))
    assert outcome.recorded and flags(office, pid) == ["handling"]
    again = office.service.notice_approaching(pid, days=days, share=share,
                                              today=due - timedelta(days=1))
    assert not again.recorded and flags(office, pid) == ["handling"]
    assert [d.clock for _, d in office.service.get(pid).approaching_deadlines()] == ["handling"]


def test_an_extension_moves_the_due_day_so_the_flag_no_longer_stands(office: Office) -> None:
    """The flag names the due day it saw; after an extension the clock can be flagged anew."""
    pid = office.case_in("accepted")
    petition = office.service.get(pid)
    due = petition.current("handling").due  # type: ignore[union-attr]
    office.service.notice_approaching(pid, days=3, share=0.2, today=due - timedelta(days=2))
    office.do("extend", pid, days=30, reason="案情复杂", approved_by="leader1")
    assert office.service.get(pid).approaching_deadlines() == []
    new_due = office.service.get(pid).current("handling").due  # type: ignore[union-attr]
    office.service.notice_approaching(pid, days=3, share=0.0, today=new_due - timedelta(days=1))
    assert flags(office, pid) == ["handling", "handling"]


def test_flags_survive_a_snapshot(office: Office) -> None:
    """A case read back from a snapshot (every 50 events) still knows what was flagged."""
    pid = office.case_in("accepted")
    due = office.service.get(pid).current("handling").due  # type: ignore[union-attr]
    office.service.notice_approaching(pid, days=3, share=0.2, today=due - timedelta(days=2))
    for i in range(50):
        office.do("add_note", pid, text=f"第{i}次跟进", kind="investigation")
    assert office.service.snapshots is not None
    assert list(office.service.snapshots.get(pid))  # a snapshot was taken
    assert [d.clock for _, d in office.service.get(pid).approaching_deadlines()] == ["handling"]


def test_a_case_that_is_not_overdue_beyond_the_grace_is_not_supervised(office: Office) -> None:
    """Supervision waits for the grace to pass after the due day, then comes once."""
    pid = office.case_in("assigned")
    due = office.service.get(pid).current("acceptance").due  # type: ignore[union-attr]

    def supervise_on(day_after_due: int) -> bool:
        today = due + timedelta(days=day_after_due)
        office.clock.now = office.clock.now.replace(year=today.year, month=today.month, day=today.day)
        return office.service.supervise_overdue(pid, grace_days=15, by_unit="county").recorded

    assert not supervise_on(15)
    assert supervise_on(16)
    assert office.service.get(pid).supervision_level == "yellow"
    assert not supervise_on(40)  # ordered once for this miss


def test_a_case_with_a_review_request_is_not_closed_as_lapsed(office: Office) -> None:
    """A review requested in time keeps the case open, whatever the date."""
    pid = office.case_in("review_requested")
    far = office.service.policy.office_date(office.clock.now) + timedelta(days=90)
    assert not office.service.close_lapsed(pid, today=far).recorded
    assert office.service.get(pid).status == "review_requested"
