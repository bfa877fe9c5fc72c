"""Reporting periods: a quarter or a year, as office dates and as the UTC moments that bound them."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidField
from projections.statistics import Period, area_of


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31)),
    ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
    ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
])
def test_a_period_covers_its_quarter_or_year_both_ends_included(text: str, first: date, last: date) -> None:
    """Each quarter runs from its first day to its last; a year from 1 January to 31 December."""
    period = Period.parse(text)
    assert (period.label, period.first, period.last) == (text, first, last)


@pytest.mark.parametrize("text", ["", "26", "2026Q3", "2026-Q5", "2026-Q0", "2026-q3", "2026-03",
                                  "２０２６", "0999", " 2026", "2026-Q3\n"])
def test_a_malformed_period_is_refused_naming_the_field(text: str) -> None:
    """Anything but YYYY or YYYY-Qn is refused with an error naming `period`."""
    with pytest.raises(InvalidField) as refused:
        Period.parse(text)
    assert refused.value.field == "period" and "2026-Q3" in str(refused.value)


def test_a_quarter_is_bounded_by_midnight_in_the_office_time_zone() -> None:
    """Q3 in Beijing time starts at 16:00 UTC on 30 June and ends before 16:00 UTC on 30 September."""
    start, stop = Period.parse("2026-Q3").instants(ZoneInfo("Asia/Shanghai"))
    assert (start, stop) == ("2026-06-30T16:00:00.000000+00:00", "2026-09-30T16:00:00.000000+00:00")


def test_the_area_of_a_location_is_its_township() -> None:
    """Villages and groups count under their township; the county's own cases under the county."""
    assert area_of("/county/town1/town1.v1/town1.v1.g1/") == "town1"
    assert area_of("/county/town1/") == "town1"
    assert area_of("/county/") == "county"
