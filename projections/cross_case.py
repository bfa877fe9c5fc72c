"""The board's cross-case rules in memory, for a bulk rebuild (projections/bulk.py).

The incremental projection decides repeat, after-final, hotspot and the regrouping on a rules
change with SQL run in the write transaction (projections/board_rules.py, hotspots.py). A rebuild
holds every case in memory instead and decides the same rules here, statement for statement, on
the rows it has made so far; the tables it writes at the end are those the SQL would have left
(tests/integration/test_bulk.py compares them on both stores).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.petition import Petition
from domain.petition_state import OPEN_STATUSES
from domain.rules import WarningRules
from projections.hotspots import LISTED, windows
from projections.store import stamp

# A warning row, in the board table's column order, then the table it belongs to.
PID, CASE, RULE, LEVEL, DETAIL, UNIT, PERSON, PATH, RAISED, CLEARED, VERSION, TABLE = range(12)
BOARD, KEY_PERSON_BOARD = "warning_board", "key_person_board"


def listed(values: list[str]) -> str:
    """The first few values in order, then '(+N more)': as hotspots.listed says it in SQL."""
    ordered = sorted(values)
    named = ", ".join(ordered[:LISTED])
    return named + (f" (+{len(ordered) - LISTED} more)" if len(ordered) > LISTED else "")


@dataclass
class Hotspot:
    """A row of the hotspots table: the petition that raised it and its standing board row."""

    area: str
    category: str
    pid: str
    version: int
    last_day: str


@dataclass
class Board:
    """Every board row made so far, by case, and what the cross-case rules look up."""

    rows: dict[str, list[list[Any]]] = field(default_factory=lambda: defaultdict(list))
    keys: set[tuple[str, str, str, str, int]] = field(default_factory=set)
    people: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    person_rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    area_days: dict[tuple[str, str], list[tuple[str, str, str]]] = field(
        default_factory=lambda: defaultdict(list))
    hotspots: dict[tuple[str, str], list[Hotspot]] = field(default_factory=lambda: defaultdict(list))
    members: dict[tuple[str, str, str], dict[str, tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(dict))
    latest: str = ""  # the latest record time seen (hotspots stand until a record time)

    # ---- rows ---------------------------------------------------------------------------

    def raise_(self, row: list[Any]) -> None:
        """INSERT ... ON CONFLICT DO NOTHING on (petition_id, rule, level, raised_version)."""
        key = (row[TABLE], row[PID], row[RULE], row[LEVEL], row[VERSION])
        if key not in self.keys:
            self.keys.add(key)
            self.rows[row[PID]].append(row)

    def clear(self, pid: str, rule: str, level: str, at: str, table: str = BOARD) -> None:
        """Clear the case's standing (never cleared) rows of the rule and level."""
        for row in self.rows.get(pid, ()):
            if row[RULE] == rule and row[LEVEL] == level and row[CLEARED] is None and row[TABLE] == table:
                row[CLEARED] = at

    def all_rows(self, table: str) -> list[tuple[Any, ...]]:
        """The rows of a table, without the table column."""
        return [tuple(r[:TABLE]) for rows in self.rows.values() for r in rows if r[TABLE] == table]

    # ---- a rules change -------------------------------------------------------------------

    def regroup(self, cases: dict[str, Petition], rules: WarningRules, at: str, negated: int,
                path: Any) -> None:
        """board_rules.REGROUP: clear group rows at another level, raise the missing ones."""
        def level(headcount: int) -> str:
            return ("red" if headcount >= rules.group_red else
                    "orange" if headcount >= rules.group_orange else "")
        for pid, rows in self.rows.items():
            for row in rows:
                if row[RULE] == "group" and row[CLEARED] is None and row[TABLE] == BOARD \
                        and row[LEVEL] != level(cases[pid].headcount):
                    row[CLEARED] = at
        for pid, case in cases.items():
            if case.headcount < rules.group_orange or case.status not in OPEN_STATUSES:
                continue
            if any(r[RULE] == "group" and r[CLEARED] is None and r[TABLE] == BOARD
                   for r in self.rows.get(pid, ())):
                continue
            self.raise_([pid, case.case_number, "group", level(case.headcount),
                         f"group petition of {case.headcount} people", case.responsible_unit,
                         case.responsible_person, path(case.responsible_unit), at, None, negated, BOARD])

    # ---- repeat and after final -------------------------------------------------------------

    def repeat(self, petition: Petition, people: list[str], rules: WarningRules,
               who: list[Any]) -> None:
        """board_rules._repeat: index the petitioners, then raise when one came within the window."""
        pid, received = who[PID], utc(petition.received_at)
        for person in people:  # (person, received_at, petition_id) is the index's key
            entry, known = (received, pid, petition.case_number), self.people[person]
            at = bisect_left(known, entry)
            if at == len(known) or known[at][:2] != entry[:2]:
                known.insert(at, entry)
                self.person_rows.append((person, *entry))
        matter = f"same matter as {petition.related_case_number}" if petition.related_case_number else ""
        if not people and not matter:
            return
        window = timedelta(days=rules.repeat_days)
        start, end = utc(petition.received_at - window), utc(petition.received_at + window)
        earlier = sorted({case for person in people
                          for _, other, case in within(self.people[person], start, end) if other != pid})
        if not earlier and not matter:
            return
        detail = matter + (("; " if matter else "") + f"same petitioner within {rules.repeat_days} days as "
                           + listed(earlier) if earlier else "")
        self.raise_([*who[:RULE], "repeat", "yellow", detail, *who[UNIT:CLEARED], None, who[VERSION], BOARD])

    def after_final(self, petition: Petition, cases: dict[str, Petition], rules: WarningRules,
                    at: datetime, who: list[Any]) -> None:
        """board_rules._after_final: a petition on a matter already settled finally."""
        related = cases.get(petition.related_case_id or "")
        if related is None or related.status != "final":
            return
        until = stamp(datetime.fromisoformat(stamp(at)) + timedelta(days=rules.after_final_days))
        self.raise_([*who[:RULE], "after_final", "orange",
                     f"again on {related.case_number}, a matter settled finally (终结)",
                     *who[UNIT:CLEARED], until, who[VERSION], BOARD])

    # ---- hotspots ---------------------------------------------------------------------------

    def place(self, areas: list[str], category: str, day: str, pid: str, case_number: str) -> None:
        """The case's list row, as the hotspot rule finds it in each area it lies in."""
        for area in areas:
            days = self.area_days[(area, category)]
            days.insert(bisect_right(days, (day, pid, case_number)), (day, pid, case_number))

    def _standing(self, area: str, category: str, at: str) -> Hotspot | None:
        spots = self.hotspots.get((area, category), ())
        if at >= self.latest:
            # Time moved forward only: a hotspot is raised when none stands, and one that no longer
            # stands never stands again, so only the newest can stand now.
            spots = spots[-1:]
        for h in spots:
            for row in self.rows.get(h.pid, ()):
                if (row[RULE] == "hotspot" and row[LEVEL] == "orange" and row[VERSION] == h.version
                        and row[TABLE] == BOARD and row[CLEARED] is not None and row[CLEARED] > at):
                    return h
        return None

    def _detail(self, area: str, category: str, cluster: str, days: int) -> str:
        names = [case for case, _ in self.members[(area, category, cluster)].values()]
        return f"{len(names)} petitions on {category} in {area} within {days} days: {listed(names)}"

    def hotspot(self, areas: list[str], area_path: Any, category: str, day: Any, rules: WarningRules,
                at: datetime, who: list[Any]) -> None:
        """hotspots.statements, one area after the other (the village first)."""
        days, count, when = rules.hotspot_days, rules.hotspot_count, who[RAISED]
        until = stamp((at + timedelta(days=days)).astimezone(UTC))
        pid, case_number, on = who[PID], who[CASE], day.isoformat()
        spans = [(a.isoformat(), b.isoformat()) for a, b in windows(day, days)]
        reach = (day - timedelta(days=days - 1)).isoformat(), (day + timedelta(days=days - 1)).isoformat()
        for i, area in enumerate(areas):
            key = (area, category)
            listed_days = self.area_days[key]
            standing = self._standing(area, category, when)
            full = [(a, b) for a, b in spans if len(within(listed_days, a, b)) >= count]
            village_free = i == 0 or standing is not None or self._standing(areas[0], category, when) is None
            if full and village_free:
                cluster = self.members[(area, category, standing.pid if standing else pid)]
                low, high = min(a for a, _ in full), max(b for _, b in full)
                for d, other, number in within(listed_days, low, high):
                    cluster.setdefault(other, (number, d))
            if standing is not None and any(reach[0] <= d <= reach[1] for _, d in
                                            self.members[(area, category, standing.pid)].values()):
                self.members[(area, category, standing.pid)].setdefault(pid, (case_number, on))
            own = self.members.get((area, category, pid))
            if standing is None and own:
                hotspot = Hotspot(area, category, pid, who[VERSION], max(d for _, d in own.values()))
                self.hotspots[key].append(hotspot)
                self.raise_([pid, case_number, "hotspot", "orange", self._detail(area, category, pid, days),
                             who[UNIT], who[PERSON], area_path(area), when, until, who[VERSION], BOARD])
            # A new petition joins no hotspot but the one standing when it came (statements 1 and 2).
            for h in [standing] if standing is not None else []:
                if h.pid == pid or pid not in self.members[(area, category, h.pid)]:
                    continue
                current = [r for r in self.rows.get(h.pid, ()) if r[RULE] == "hotspot"
                           and r[LEVEL] == "orange" and r[VERSION] == h.version and r[TABLE] == BOARD
                           and r[CLEARED] is not None and r[CLEARED] > when]
                for row in current:
                    self.raise_([*row[:DETAIL], self._detail(area, category, h.pid, days),
                                 *row[UNIT:RAISED], when, until, h.version + 1, BOARD])
                for row in current:
                    row[CLEARED] = when
                h.version += 1
                h.last_day = max(d for _, d in self.members[(area, category, h.pid)].values())

    def hotspot_rows(self) -> list[tuple[Any, ...]]:
        """The hotspots table."""
        return [(h.area, h.category, h.pid, h.version, h.last_day)
                for spots in self.hotspots.values() for h in spots]

    def member_rows(self) -> list[tuple[Any, ...]]:
        """The hotspot_members table."""
        return [(area, category, cluster, pid, number, day)
                for (area, category, cluster), members in self.members.items()
                for pid, (number, day) in members.items()]


def within(entries: list[tuple[str, str, str]], low: str, high: str) -> list[tuple[str, str, str]]:
    """The entries of a sorted list whose first value lies from `low` to `high`, both included."""
    return entries[bisect_left(entries, (low,)):bisect_right(entries, (high, "\uffff"))]


def utc(moment: datetime) -> str:
    """A moment in UTC, as the list's received_at column holds it."""
    return stamp(moment.astimezone(UTC))
