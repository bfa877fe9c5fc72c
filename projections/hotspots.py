"""The hotspot rule (热点): petitions of one category in one village or township within a few days.

A hotspot stands for an area and a category. It is raised when a window of `hotspot_days` days
holding the new petition's receipt day holds `hotspot_count` petitions of the area and category.
It stands until `hotspot_days` after the last petition joined it (record time). While it stands, a
new petition joins it when received within `hotspot_days` of one of its petitions, or when it
completes such a window (the window's petitions join with it). A township hotspot is not raised
while the petition's village has one standing.

The board keeps each state of a hotspot as a row of its own: a join clears the row standing then at
the join's record time and raises one naming the petitions joined so far, with the new planned end.
No row is otherwise changed, so the board as of a past moment shows the hotspot as it stood then,
and a petition registered after a hotspot ended never reopens it (it may raise a new one).

The rule is decided in projections/cross_case.py; here are its tables and the windows.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

DDL = (
    # One row per hotspot: the petition that raised it, the raised_version of its board row
    # standing now, and the receipt day of its latest petition.
    "CREATE TABLE IF NOT EXISTS {s}hotspots ("
    " area TEXT NOT NULL, category TEXT NOT NULL, petition_id TEXT NOT NULL,"
    " raised_version INTEGER NOT NULL, last_day TEXT NOT NULL,"
    " PRIMARY KEY (area, category, petition_id, raised_version)){clustered}",
    "CREATE INDEX IF NOT EXISTS hotspots_last_day ON {s}hotspots (area, category, last_day)",
    # The petitions that joined each hotspot (`cluster`: the petition that raised it).
    "CREATE TABLE IF NOT EXISTS {s}hotspot_members ("
    " area TEXT NOT NULL, category TEXT NOT NULL, cluster TEXT NOT NULL, petition_id TEXT NOT NULL,"
    " case_number TEXT NOT NULL, received_on TEXT NOT NULL,"
    " PRIMARY KEY (area, category, cluster, petition_id)){clustered}",
    "CREATE INDEX IF NOT EXISTS hotspot_members_day ON {s}hotspot_members"
    " (area, category, cluster, received_on)",
    "CREATE INDEX IF NOT EXISTS case_list_category_day ON {s}case_list (category, received_on)",
)
TABLES = ("hotspots", "hotspot_members")
COLUMNS = ("(petition_id, case_number, rule, level, detail, responsible_unit, responsible_person,"
           " unit_path, raised_at, cleared_at, raised_version)")
LISTED = 5  # case numbers named in a detail; the rest are counted
Entry = tuple[str, str, str]  # (day or moment, petition id, case number): sorted lists of these
LAST = "\uffff"  # after any petition id: (day, LAST) follows every entry of the day


@dataclass
class Hotspot:
    """A row of the hotspots table: the petition that raised it, the raised_version of its board row
    standing now, and the receipt day of its latest petition."""

    area: str
    category: str
    pid: str
    version: int
    last_day: str


def windows(day: date, days: int) -> list[tuple[date, date]]:
    """Every window of `days` days holding the new petition's receipt day, earlier and later ones
    alike: a letter received first but registered last completes a window as much as any other."""
    return [(day + timedelta(days=k - days + 1), day + timedelta(days=k)) for k in range(days)]


# A window's first and last day as bounds in a sorted list of entries, as `within` takes them:
# (first,) comes before, (last, LAST) after, every entry of those days.
Span = tuple[tuple[str], tuple[str, str]]


@lru_cache(maxsize=1024)
def spans(day: date, days: int) -> tuple[tuple[str, str], tuple[Span, ...]]:
    """The days within `days` of `day` either way (first, last), and `windows` (as Spans), as the
    lists' ISO text. Remembered: an office registers many petitions a day."""
    spread = timedelta(days=days - 1)
    return ((day - spread).isoformat(), (day + spread).isoformat()), tuple(
        ((a.isoformat(),), (b.isoformat(), LAST)) for a, b in windows(day, days))


def listed(ordered: list[str]) -> str:
    """The first few of values in order, then '(+N more)'."""
    named = ", ".join(ordered[:LISTED])
    return named + (f" (+{len(ordered) - LISTED} more)" if len(ordered) > LISTED else "")


@dataclass
class Cluster:
    """The petitions that joined a hotspot, by case, with their receipt days and case numbers
    kept in order (a hotspot may gather hundreds: each join looks at them)."""

    joined: dict[str, tuple[str, str]] = field(default_factory=dict)
    days: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)

    def join(self, pid: str, number: str, day: str) -> bool:
        """Add a petition (False when it had joined already)."""
        if pid in self.joined:
            return False
        self.joined[pid] = (number, day)
        insort(self.days, day)
        insort(self.numbers, number)
        return True

    def any_within(self, low: str, high: str) -> bool:
        """Whether a petition of the cluster was received from `low` to `high`."""
        at = bisect_left(self.days, low)
        return at < len(self.days) and self.days[at] <= high

    def __contains__(self, pid: object) -> bool:
        return pid in self.joined


@dataclass
class Area:
    """What the hotspot rule keeps of one area and category: its petitions in order of receipt
    day, its hotspots (the newest last), each hotspot's members and its newest board row (a row
    is a board row's columns, then its table), by the petition that raised it."""

    entries: list[Entry] = field(default_factory=list)
    hotspots: list[Hotspot] = field(default_factory=list)
    members: defaultdict[str, Cluster] = field(default_factory=lambda: defaultdict(Cluster))
    rows: dict[str, list[Any]] = field(default_factory=dict)


def within(entries: list[Entry], low: str, high: str) -> list[Entry]:
    """The entries of a sorted list whose first value lies from `low` to `high`, both included."""
    return entries[bisect_left(entries, (low,)):bisect_right(entries, (high, LAST))]

