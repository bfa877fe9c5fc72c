"""A case's own warnings on a day, and with no day: what the board works out after each event."""

from __future__ import annotations

from datetime import timedelta

from domain.warnings import Warning, case_warnings
from tests.support import Office


def rules(warnings: list[Warning]) -> set[tuple[str, str]]:
    return {(w.rule, w.level) for w in warnings}


def test_with_no_day_an_open_deadline_warns_only_once_it_is_recorded_missed(office: Office) -> None:
    """On a day, an open deadline past due is overdue and one near it due soon; with no day neither
    is, until the sweep records the miss, which stands with no day as on any day."""
    pid = office.case_in("assigned")
    due = office.service.get(pid).current("acceptance").due  # type: ignore[union-attr]
    petition = office.service.get(pid)
    assert ("due_soon", "yellow") in rules(case_warnings(petition, due - timedelta(days=1)))
    assert ("overdue", "red") in rules(case_warnings(petition, due + timedelta(days=1)))
    assert not {"overdue", "due_soon"} & {w.rule for w in case_warnings(petition, None)}

    office.service.record_missed_deadlines(pid, today=due + timedelta(days=1))
    missed = office.service.get(pid)
    assert ("overdue", "red") in rules(case_warnings(missed, None))
    assert ("overdue", "red") in rules(case_warnings(missed, due - timedelta(days=30)))


def test_group_and_urgent_warnings_end_with_the_case(office: Office) -> None:
    """A group petition flagged urgent warns of both while open, with a day or none; declined, of
    neither."""
    pid = office.register(headcount=60, urgent=True)
    petition = office.service.get(pid)
    for day in (None, petition.received_at.date()):
        assert {("group", "red"), ("urgent", "red")} <= rules(case_warnings(petition, day))
    office.do("decline", pid, reason="不属于信访事项")
    assert rules(case_warnings(office.service.get(pid), None)) == set()
