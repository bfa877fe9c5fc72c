"""Deadline rules: computing, moving, closing and recording clocks."""

from __future__ import annotations

from datetime import date

import pytest
from holidays.version import __version__ as HOLIDAYS_VERSION

from domain.calendar import WorkCalendar, parse_schedule
from domain.deadlines import ClockRule, Deadline, DeadlinePolicy
from domain.errors import InvalidField


def test_a_triage_clock_ending_in_national_day_moves_past_the_holiday() -> None:
    """Registered 2026-09-16: day 15 is 1 October, so triage is due on 8 October."""
    deadline = DeadlinePolicy().start("triage", date(2026, 9, 16))
    assert deadline.due == date(2026, 10, 8)
    assert deadline.calendar == f"2026: holidays {HOLIDAYS_VERSION}"


def test_working_day_counting_counts_the_make_up_saturday() -> None:
    """Counted in working days, 10 October 2026 (a make-up Saturday) is a working day."""
    policy = DeadlinePolicy(rules={"acceptance": ClockRule(3, "working", "local rule", "receipt")})
    # Working days after 2026-10-07: Oct 8 (Thu), Oct 9 (Fri), Oct 10 (make-up Saturday).
    assert policy.start("acceptance", date(2026, 10, 7)).due == date(2026, 10, 10)
    assert "3 working days" in policy.start("acceptance", date(2026, 10, 7)).rule


def test_resuming_a_working_day_clock_adds_the_working_days_it_stood_still() -> None:
    """A working-day clock suspended over National Day loses only the working days."""
    policy = DeadlinePolicy(rules={"handling": ClockRule(5, "working", "local rule", "acceptance")})
    started = policy.start("handling", date(2026, 9, 28))
    resumed = policy.resumed(started.suspended(date(2026, 9, 29)), date(2026, 10, 9))
    # Working days after 9-29 up to 10-09: 9-30, 10-08, 10-09 -> 3 working days stood still.
    assert resumed.suspended_days == 3
    assert resumed.due == policy.calendar.due_date(date(2026, 9, 28), 8, "working")


def test_an_administrators_schedule_changes_the_due_date_and_the_recorded_calendar() -> None:
    """A loaded schedule for 2031 makes its days off count, and is named on the deadline."""
    plain = DeadlinePolicy().start("triage", date(2031, 2, 15))
    schedule = parse_schedule({"year": 2031, "holidays": [plain.due.isoformat()],
                               "source": "test notice"})
    loaded = DeadlinePolicy(WorkCalendar({2031: schedule})).start("triage", date(2031, 2, 15))
    assert loaded.due > plain.due
    assert "override (test notice" in loaded.calendar and loaded.calendar != plain.calendar


def test_closing_on_time_is_met_and_late_is_missed() -> None:
    """A closing event on or before the due day meets the clock; after it, the clock is missed."""
    deadline = DeadlinePolicy().start("handling", date(2026, 9, 1))
    assert deadline.closed(deadline.due).status == "met"
    late = deadline.closed(date(2027, 1, 1))
    assert (late.status, late.missed_on) == ("missed", date(2027, 1, 1))
    recorded = deadline.missed(date(2026, 11, 3))
    assert recorded.is_running and recorded.closed(date(2026, 11, 5)).status == "missed"
    assert not recorded.closed(date(2026, 11, 5)).is_running


def test_deadlines_round_trip_through_their_stored_form() -> None:
    """What is written into an event reads back equal."""
    deadline = DeadlinePolicy().start("review_request", date(2026, 9, 1)).suspended(date(2026, 9, 3))
    assert Deadline.from_dict(deadline.to_dict()) == deadline


def test_an_unknown_clock_in_the_rules_is_refused() -> None:
    """A misspelt clock name in the office's rules is an error, not silently ignored."""
    with pytest.raises(InvalidField, match="unknown clock"):
        DeadlinePolicy(rules={"handeling": ClockRule(60, "working", "x", "y")})
