"""Working days under the Chinese statutory holiday calendar, and the schedules admins load."""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from holidays import country_holidays
from holidays.version import __version__ as HOLIDAYS_VERSION

from domain.errors import CalendarError

Counting = Literal["calendar", "working"]

MIN_YEAR = 2000
MAX_YEAR = 2100

_ONE_DAY = timedelta(days=1)
# fromisoformat alone also accepts '20270101' and week dates; an admin's file must be unambiguous.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SCHEDULE_KEYS = frozenset({"year", "holidays", "workdays", "source"})
# The package's English label for a weekday off traded against a make-up working day.
_SUBSTITUTED_PREFIX = "Day off (substituted"


@dataclass(frozen=True)
class YearSchedule:
    """An official holiday schedule for one year, loaded by an administrator."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str

    def __post_init__(self) -> None:
        """Refuse a schedule that cannot be an official one, whoever built it."""
        where = f"schedule for {self.year}"
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise CalendarError(f"'year' must be between {MIN_YEAR} and {MAX_YEAR}")
        for name, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            for day in sorted(days):
                if day.year != self.year:
                    raise CalendarError(f"{where}: '{name}' date {day} is not in {self.year}")
        both = sorted(self.holidays & self.workdays)
        if both:
            raise CalendarError(f"{where}: {both[0]} is in both 'holidays' and 'workdays'")
        for day in sorted(self.workdays):
            if day.weekday() < 5:
                raise CalendarError(
                    f"{where}: 'workdays' date {day} is a {day:%A}; a make-up working day "
                    "must be a Saturday or Sunday"
                )
        if not self.source.strip():
            raise CalendarError(f"{where}: 'source' must name the notice the schedule comes from")

    def digest(self) -> str:
        """A short fingerprint of the dates, so a changed schedule shows in the calendar version."""
        text = json.dumps(
            {
                "holidays": [d.isoformat() for d in sorted(self.holidays)],
                "workdays": [d.isoformat() for d in sorted(self.workdays)],
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:8]


def parse_schedule(data: Mapping[str, object]) -> YearSchedule:
    """Parse {"year": 2027, "holidays": ["2027-01-01", ...], "workdays": [...], "source": "..."}."""
    if not isinstance(data, Mapping):
        raise CalendarError("a schedule must be a JSON object")
    unknown = sorted(set(data) - _SCHEDULE_KEYS)
    if unknown:
        # A misspelt key ('workday') would otherwise silently drop a list of make-up days.
        raise CalendarError(f"unknown key(s) {', '.join(map(repr, unknown))} in a schedule")
    if "year" not in data:
        raise CalendarError("'year' is missing from a schedule")
    year = data["year"]
    # bool is an int subclass; 'true' is never a year.
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarError(f"'year' must be a whole number between {MIN_YEAR} and {MAX_YEAR}")
    where = f"schedule for {year}"
    if "holidays" not in data:
        raise CalendarError(f"{where}: 'holidays' is missing")
    source = data.get("source")
    if not isinstance(source, str):
        raise CalendarError(f"{where}: 'source' must be text naming the official notice")
    return YearSchedule(
        year=year,
        holidays=_parse_dates(data["holidays"], "holidays", where),
        # A year may have no make-up working days at all.
        workdays=_parse_dates(data.get("workdays", []), "workdays", where),
        source=source,
    )


def _parse_dates(value: object, name: str, where: str) -> frozenset[date]:
    """Parse a list of 'YYYY-MM-DD' strings, naming the list and item on failure."""
    if not isinstance(value, list):
        raise CalendarError(f"{where}: '{name}' must be a list of dates 'YYYY-MM-DD'")
    days: set[date] = set()
    for number, item in enumerate(value, start=1):
        if not isinstance(item, str) or not _ISO_DATE.fullmatch(item):
            raise CalendarError(
                f"{where}: '{name}' item {number} ({item!r}) is not a date 'YYYY-MM-DD'"
            )
        try:
            days.add(date.fromisoformat(item))
        except ValueError:
            raise CalendarError(
                f"{where}: '{name}' item {number} ({item}) is not a real date"
            ) from None
    return frozenset(days)


def load_schedules(path: str | os.PathLike[str]) -> dict[int, YearSchedule]:
    """Read a JSON file holding a list of schedules (or one schedule object)."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as error:
        raise CalendarError(f"cannot read the schedule file: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CalendarError(f"the schedule file is not valid JSON: {error}") from None
    items = data if isinstance(data, list) else [data]
    schedules: dict[int, YearSchedule] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise CalendarError(f"schedule {number} in the file is not a JSON object")
        try:
            schedule = parse_schedule(item)
        except CalendarError as error:
            raise CalendarError(f"schedule {number} in the file: {error.message}") from None
        if schedule.year in schedules:
            raise CalendarError(f"the file holds more than one schedule for {schedule.year}")
        schedules[schedule.year] = schedule
    return schedules


def dump_schedule(schedule: YearSchedule) -> dict[str, object]:
    """The JSON form of a schedule (inverse of parse_schedule)."""
    return {
        "year": schedule.year,
        "holidays": [d.isoformat() for d in sorted(schedule.holidays)],
        "workdays": [d.isoformat() for d in sorted(schedule.workdays)],
        "source": schedule.source,
    }


@dataclass(frozen=True)
class _Year:
    """The non-working days of one year, precomputed so each lookup is one set probe."""

    off: frozenset[date]
    off_sorted: tuple[date, ...]
    official: bool
    label: str


def _make_year(
    year: int, holidays_: frozenset[date], workdays: frozenset[date], official: bool, label: str
) -> _Year:
    """Precompute the days off of `year`: weekends not made working days, plus holidays."""
    off: set[date] = set()
    day = date(year, 1, 1)
    while day.year == year:
        working = (day.weekday() < 5 and day not in holidays_) or day in workdays
        if not working:
            off.add(day)
        day += _ONE_DAY
    return _Year(frozenset(off), tuple(sorted(off)), official, label)


@functools.cache
def _package_year(year: int) -> _Year:
    """The package's data for one year; cached process-wide since it never changes."""
    # Next year is populated too: a make-up working day late in December can belong to
    # next year's notice (2001-12-29 was one), and the package files it under that year.
    data = country_holidays("CN", years=(year, year + 1), language="en_US")
    days_off = frozenset(d for d in data if d.year == year)
    workdays = frozenset(d for d in data.weekend_workdays if d.year == year)
    substituted = any(
        name.startswith(_SUBSTITUTED_PREFIX) for d, name in data.items() if d.year == year
    )
    official = bool(workdays) or substituted
    label = f"{year}: holidays {HOLIDAYS_VERSION}"
    if not official:
        label += ", no official schedule (package estimate; load the official one)"
    return _make_year(year, days_off, workdays, official, label)


def _override_year(schedule: YearSchedule) -> _Year:
    """The data for a year whose schedule an administrator loaded."""
    label = f"{schedule.year}: override ({schedule.source}, sha256 {schedule.digest()})"
    return _make_year(schedule.year, schedule.holidays, schedule.workdays, True, label)


class WorkCalendar:
    """Working days under the Chinese statutory holiday calendar, with administrator overrides."""

    def __init__(self, overrides: Mapping[int, YearSchedule] | None = None) -> None:
        """Use the package's schedules, replaced year by year by `overrides`."""
        self._overrides: dict[int, YearSchedule] = dict(overrides or {})
        for year, schedule in self._overrides.items():
            if schedule.year != year:
                raise CalendarError(
                    f"the override for {year} holds the schedule for {schedule.year}"
                )
        self._years: dict[int, _Year] = {}
        self._lock = threading.Lock()

    @property
    def overrides(self) -> Mapping[int, YearSchedule]:
        """The administrator's schedules, by year."""
        return dict(self._overrides)

    def _year(self, year: int) -> _Year:
        """The data for `year`, built on first use; a dict read afterwards."""
        found = self._years.get(year)
        if found is not None:
            return found
        with self._lock:
            found = self._years.get(year)
            if found is None:
                schedule = self._overrides.get(year)
                found = _package_year(year) if schedule is None else _override_year(schedule)
                self._years[year] = found
            return found

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day (weekday not on holiday, or a make-up working day)."""
        found = self._years.get(day.year)
        if found is None:
            found = self._year(day.year)
        return day not in found.off

    def has_official_schedule(self, year: int) -> bool:
        """Whether `year`'s make-up working days are known (from an override or the package)."""
        return self._year(year).official

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def due_date(self, start: date, days: int, counting: Counting = "calendar") -> date:
        """The last day of a `days`-day clock starting on `start` (the start day not counted)."""
        if days < 0:
            raise ValueError(f"a clock cannot run a negative number of days ({days})")
        if counting == "calendar":
            return self.next_working_day(start + timedelta(days=days))
        if counting != "working":
            raise ValueError(f"unknown counting {counting!r}; use 'calendar' or 'working'")
        if days == 0:
            return self.next_working_day(start)
        # Jump instead of stepping day by day: `candidate` never passes the answer, since each
        # day adds at most one working day, and reaches it when the count is exact.
        candidate = start + timedelta(days=days)
        while (found := self.working_days_between(start, candidate)) < days:
            candidate += timedelta(days=days - found)
        return candidate

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days d with start < d <= end (0 if end <= start)."""
        if end <= start:
            return 0
        days_off = 0
        for year in range(start.year, end.year + 1):
            off = self._year(year).off_sorted
            days_off += bisect.bisect_right(off, end) - bisect.bisect_right(off, start)
        return (end - start).days - days_off

    def version(self, start: date, end: date) -> str:
        """Which calendar data decides every year from start's to end's, joined by '; '."""
        first, last = sorted((start.year, end.year))
        return "; ".join(self._year(year).label for year in range(first, last + 1))
