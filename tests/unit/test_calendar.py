"""The working-day calendar: statutory holidays, make-up working days and admin overrides."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from holidays.version import __version__ as HOLIDAYS_VERSION
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import (
    WorkCalendar,
    YearSchedule,
    dump_schedule,
    load_schedules,
    parse_schedule,
)
from domain.errors import CalendarError

# The expected dates below were checked against holidays.China(years=2026) (package 0.109)
# and the State Council's 2026 notice: Spring Festival Feb 15-23 off, Feb 14 and Feb 28
# (Saturdays) worked; Labour Day May 1-5 off, May 9 worked; National Day Oct 1-7 off,
# Sep 20 (Sunday) and Oct 10 (Saturday) worked.

CALENDAR = WorkCalendar()


def days(first: date, last: date) -> list[date]:
    """Every date from first to last inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def made_up_2027() -> YearSchedule:
    """A 2027 schedule no real notice will match: a Wednesday off and a Saturday worked in March."""
    return YearSchedule(
        year=2027,
        holidays=frozenset({date(2027, 1, 1), date(2027, 3, 10)}),
        workdays=frozenset({date(2027, 3, 13)}),
        source="test notice",
    )


def test_national_day_2026_is_off_from_october_1_to_7() -> None:
    """Every day of the 2026 National Day holiday is a day off, and Oct 8 is worked."""
    assert not any(CALENDAR.is_working_day(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert CALENDAR.is_working_day(date(2026, 10, 8))


def test_fifteen_day_clock_ending_in_national_day_moves_to_next_working_day() -> None:
    """A 15-day clock whose last day is Oct 1 2026 is due on Oct 8, after the holiday."""
    assert CALENDAR.due_date(date(2026, 9, 16), 15) == date(2026, 10, 8)


def test_make_up_working_sunday_counts_in_a_working_day_clock() -> None:
    """Counting 2 working days from Friday Sep 18 2026 counts the make-up Sunday Sep 20."""
    assert CALENDAR.is_working_day(date(2026, 9, 20))
    assert CALENDAR.due_date(date(2026, 9, 18), 2, "working") == date(2026, 9, 21)


def test_make_up_working_saturday_is_a_due_date_itself() -> None:
    """A calendar clock ending on the make-up Saturday Feb 28 2026 is due that Saturday."""
    assert CALENDAR.due_date(date(2026, 2, 13), 15) == date(2026, 2, 28)


def test_spring_festival_2026_is_off_from_february_15_to_23_with_two_saturdays_worked() -> None:
    """Feb 15-23 2026 are days off; Saturdays Feb 14 and Feb 28 are working days."""
    assert not any(CALENDAR.is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert CALENDAR.is_working_day(date(2026, 2, 14))
    assert CALENDAR.is_working_day(date(2026, 2, 28))
    assert CALENDAR.is_working_day(date(2026, 2, 24))


def test_clock_ending_in_spring_festival_moves_past_the_holiday() -> None:
    """A 15-day clock ending on Feb 16 2026 is due on Tuesday Feb 24."""
    assert CALENDAR.due_date(date(2026, 2, 1), 15) == date(2026, 2, 24)


def test_sixty_day_clock_ending_on_labour_day_moves_to_may_6() -> None:
    """A 60-day handling clock ending on May 1 2026 is due on May 6, after the May 1-5 holiday."""
    assert CALENDAR.due_date(date(2026, 3, 2), 60) == date(2026, 5, 6)


def test_sixty_day_clock_ending_on_a_working_day_is_not_moved() -> None:
    """A 60-day clock ending on Thursday Apr 30 2026 is due that day."""
    assert CALENDAR.due_date(date(2026, 3, 1), 60) == date(2026, 4, 30)


def test_due_date_on_an_ordinary_weekend_moves_to_monday() -> None:
    """A 15-day clock ending on Saturday Mar 21 2026 is due on Monday Mar 23."""
    assert CALENDAR.due_date(date(2026, 3, 6), 15) == date(2026, 3, 23)


def test_working_day_clock_skips_the_national_day_week() -> None:
    """One working day after Sep 30 2026 is Oct 8; one after Oct 9 is the make-up Saturday."""
    assert CALENDAR.due_date(date(2026, 9, 30), 1, "working") == date(2026, 10, 8)
    assert CALENDAR.due_date(date(2026, 10, 9), 1, "working") == date(2026, 10, 10)


def test_zero_day_clock_moves_start_to_a_working_day() -> None:
    """A zero-day clock on a Saturday is due Monday, and on a working day is due that day."""
    saturday, monday = date(2026, 3, 21), date(2026, 3, 23)
    assert CALENDAR.due_date(saturday, 0) == monday
    assert CALENDAR.due_date(saturday, 0, "working") == monday
    assert CALENDAR.due_date(monday, 0, "working") == monday


def test_negative_days_or_unknown_counting_are_refused() -> None:
    """A negative length or an unknown counting rule raises ValueError."""
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.due_date(date(2026, 3, 2), -1)
    with pytest.raises(ValueError, match="counting"):
        CALENDAR.due_date(date(2026, 3, 2), 5, "business")  # type: ignore[arg-type]


def test_working_days_between_excludes_start_and_includes_end() -> None:
    """Between Sep 30 and Oct 10 2026 lie three working days: Oct 8, 9 and the Saturday Oct 10."""
    assert CALENDAR.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert CALENDAR.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == 0
    assert CALENDAR.working_days_between(date(2026, 10, 8), date(2026, 10, 8)) == 0


def test_december_make_up_day_from_next_years_notice_is_a_working_day() -> None:
    """Saturday Dec 29 2001 was worked under the 2002 New Year notice."""
    assert CALENDAR.is_working_day(date(2001, 12, 29))
    assert not CALENDAR.is_working_day(date(2001, 12, 22))


dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


@given(start=dates, length=st.integers(min_value=1, max_value=120))
def test_working_day_due_date_is_the_nth_working_day_after_start(start: date, length: int) -> None:
    """The due date of an n-working-day clock is a working day with n working days up to it."""
    due = CALENDAR.due_date(start, length, "working")
    assert CALENDAR.is_working_day(due)
    assert CALENDAR.working_days_between(start, due) == length
    assert CALENDAR.working_days_between(start, due - timedelta(days=1)) == length - 1


@given(start=dates, length=st.integers(min_value=0, max_value=120))
def test_calendar_due_date_is_the_first_working_day_from_the_last_day(
    start: date, length: int
) -> None:
    """A calendar clock is due on its last day or the first working day after it."""
    last = start + timedelta(days=length)
    due = CALENDAR.due_date(start, length)
    assert CALENDAR.is_working_day(due)
    assert not any(CALENDAR.is_working_day(d) for d in days(last, due - timedelta(days=1)))


@given(start=dates, end=dates)
def test_working_days_between_matches_counting_day_by_day(start: date, end: date) -> None:
    """The working-day count equals the number of working days found one by one."""
    expected = sum(1 for d in days(start + timedelta(days=1), end) if CALENDAR.is_working_day(d))
    assert CALENDAR.working_days_between(start, end) == expected


def test_override_year_changes_working_days_and_due_dates() -> None:
    """An override for 2027 makes its holidays days off and its make-up Saturday a working day."""
    overridden = WorkCalendar({2027: made_up_2027()})
    assert CALENDAR.is_working_day(date(2027, 3, 10))
    assert not overridden.is_working_day(date(2027, 3, 10))
    assert overridden.is_working_day(date(2027, 3, 13))
    assert not overridden.is_working_day(date(2027, 3, 20))
    assert CALENDAR.due_date(date(2027, 2, 23), 15) == date(2027, 3, 10)
    assert overridden.due_date(date(2027, 2, 23), 15) == date(2027, 3, 11)


def test_override_leaves_other_years_to_the_package() -> None:
    """An override for 2027 does not change 2026's National Day clock."""
    overridden = WorkCalendar({2027: made_up_2027()})
    assert overridden.due_date(date(2026, 9, 16), 15) == date(2026, 10, 8)
    assert overridden.version(date(2026, 1, 1), date(2026, 12, 31)) == (
        f"2026: holidays {HOLIDAYS_VERSION}"
    )


def test_override_under_the_wrong_year_is_refused() -> None:
    """A schedule for 2027 filed under 2028 is refused."""
    with pytest.raises(CalendarError, match="2028"):
        WorkCalendar({2028: made_up_2027()})


def test_version_names_the_package_for_known_years() -> None:
    """A year the package has an official schedule for is identified by the package version."""
    assert CALENDAR.version(date(2025, 6, 1), date(2026, 2, 1)) == (
        f"2025: holidays {HOLIDAYS_VERSION}; 2026: holidays {HOLIDAYS_VERSION}"
    )
    assert CALENDAR.has_official_schedule(2026)


def test_version_says_when_no_official_schedule_is_known() -> None:
    """A year without official data is flagged in the version and by has_official_schedule."""
    assert CALENDAR.version(date(2090, 3, 1), date(2090, 3, 1)) == (
        f"2090: holidays {HOLIDAYS_VERSION}, no official schedule "
        "(package estimate; load the official one)"
    )
    assert not CALENDAR.has_official_schedule(2090)


def test_version_names_the_override_source_and_changes_with_its_dates() -> None:
    """An override's version names its source, and changes when its dates change."""
    schedule = made_up_2027()
    moved = YearSchedule(2027, frozenset({date(2027, 3, 11)}), schedule.workdays, schedule.source)
    version = WorkCalendar({2027: schedule}).version(date(2027, 1, 1), date(2027, 1, 1))
    assert version.startswith("2027: override (test notice, sha256 ")
    assert version != WorkCalendar({2027: moved}).version(date(2027, 1, 1), date(2027, 1, 1))
    assert version != CALENDAR.version(date(2027, 1, 1), date(2027, 1, 1))
    assert WorkCalendar({2027: schedule}).has_official_schedule(2027)


GOOD = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-03-10"],
    "workdays": ["2027-03-13"],
    "source": "test notice",
}


def test_parse_schedule_reads_dates_and_source() -> None:
    """A well-formed schedule parses into its dates and source."""
    assert parse_schedule(GOOD) == made_up_2027()


def test_parse_schedule_allows_a_year_without_make_up_days() -> None:
    """A schedule without a 'workdays' list has no make-up working days."""
    data = {key: value for key, value in GOOD.items() if key != "workdays"}
    assert parse_schedule(data).workdays == frozenset()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"year": None}, "'year' must be a whole number"),
        ({"year": "2027"}, "'year' must be a whole number"),
        ({"year": True}, "'year' must be a whole number"),
        ({"year": 1999}, "between 2000 and 2100"),
        ({"holidays": ["2027/01/01"]}, "'holidays' item 1 ('2027/01/01') is not a date"),
        ({"holidays": ["20270101"]}, "'holidays' item 1 ('20270101') is not a date"),
        ({"holidays": ["2027-02-30"]}, "'holidays' item 1 (2027-02-30) is not a real date"),
        ({"holidays": "2027-01-01"}, "'holidays' must be a list"),
        ({"holidays": ["2026-12-31"]}, "'holidays' date 2026-12-31 is not in 2027"),
        ({"workdays": ["2027-03-10"]}, "2027-03-10 is in both 'holidays' and 'workdays'"),
        ({"workdays": ["2027-03-12"]}, "'workdays' date 2027-03-12 is a Friday"),
        ({"source": None}, "'source' must be text"),
        ({"source": "  "}, "'source' must name the notice"),
        ({"workday": []}, "unknown key(s) 'workday'"),
    ],
)
def test_parse_schedule_refuses_naming_the_problem(change: dict[str, object], problem: str) -> None:
    """A malformed schedule is refused with a message naming the field and the problem."""
    with pytest.raises(CalendarError) as refused:
        parse_schedule({**GOOD, **change})
    assert problem in refused.value.message


def test_parse_schedule_refuses_a_missing_year_or_holiday_list() -> None:
    """A schedule without 'year' or without 'holidays' is refused, naming the key."""
    with pytest.raises(CalendarError, match="'year' is missing"):
        parse_schedule({k: v for k, v in GOOD.items() if k != "year"})
    with pytest.raises(CalendarError, match="'holidays' is missing"):
        parse_schedule({k: v for k, v in GOOD.items() if k != "holidays"})


def test_dump_then_parse_gives_back_the_schedule() -> None:
    """dump_schedule is the inverse of parse_schedule, with dates sorted as ISO text."""
    dumped = dump_schedule(made_up_2027())
    assert dumped == GOOD
    assert parse_schedule(json.loads(json.dumps(dumped))) == made_up_2027()


def test_load_schedules_reads_a_list_or_a_single_schedule(tmp_path: Path) -> None:
    """A file with a list of schedules, or with one, loads keyed by year."""
    many = tmp_path / "many.json"
    other = {**GOOD, "year": 2028, "holidays": ["2028-01-01"], "workdays": []}
    many.write_text(json.dumps([GOOD, other]), encoding="utf-8")
    one = tmp_path / "one.json"
    one.write_text(json.dumps(GOOD), encoding="utf-8")
    assert sorted(load_schedules(many)) == [2027, 2028]
    assert load_schedules(str(one)) == {2027: made_up_2027()}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[{", "not valid JSON"),
        (json.dumps([GOOD, GOOD]), "more than one schedule for 2027"),
        (json.dumps([GOOD, 2028]), "schedule 2 in the file is not a JSON object"),
        (json.dumps([{**GOOD, "year": 1999}]), "schedule 1 in the file: 'year'"),
    ],
)
def test_load_schedules_refuses_a_bad_file(tmp_path: Path, content: str, problem: str) -> None:
    """A file that is not JSON, repeats a year or holds a bad schedule is refused."""
    path = tmp_path / "schedules.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarError) as refused:
        load_schedules(path)
    assert problem in refused.value.message


def test_load_schedules_refuses_a_missing_file(tmp_path: Path) -> None:
    """A file that cannot be read is refused with a CalendarError."""
    with pytest.raises(CalendarError, match="cannot read"):
        load_schedules(tmp_path / "absent.json")
