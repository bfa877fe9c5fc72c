"""The board rules that compare a new petition with other cases: repeat, after final, hotspot.

One implementation for both ways of projecting. A rebuild (projections/bulk.py) holds every case
in memory and writes the rows it made at the end. Projecting as events come
(projections/case_list.py), the rules read what they need from the view tables through a
`Source` (the committed rows, plus what the batch itself made, held here) and `log` each change
as a statement, run in order with the batch's other statements. What was read is kept for the
next batch while no other writer moved the view (CaseListProjection.begin).

Repeat (重复信访): a petition by an ID number (kept as a keyed hash) that petitioned within
`repeat_days` of its receipt, or on the same matter as an earlier case. After final (终结后又访):
a petition on a matter whose case was final when it came. Hotspot (热点): see projections/hotspots.py.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from domain.rules import WarningRules
from projections.cross_case_sql import (
    ADD_MEMBER,
    ADD_PERSON,
    ADD_ROW,
    CLEAR_ROW,
    MOVE_HOTSPOT,
    NEW_HOTSPOT,
    row_params,
)
from projections.hotspots import LAST, Area, Cluster, Entry, Hotspot, listed, within
from projections.hotspots import spans as hotspot_spans
from projections.store import Statement, stamp

# A warning row, in the board table's column order, then the table it belongs to.
PID, CASE, RULE, LEVEL, DETAIL, UNIT, PERSON, PATH, RAISED, CLEARED, VERSION, TABLE = range(12)
BOARD, KEY_PERSON_BOARD = "warning_board", "key_person_board"
Row = list[Any]


class Source(Protocol):
    """Where the rules read the rows they did not make themselves (the view tables)."""

    def area(self, area: str, category: str, low: str, high: str) -> list[Entry]:
        """The cases of a category located in an area, received from `low` to `high`."""

    def hotspots(self, area: str, category: str) -> list[tuple[Hotspot, Row, dict[str, tuple[str, str]]]]:
        """The area's hotspots of the category that may stand during the batch: each with its
        current board row and its members."""

    def people(self, person: str, start: str, end: str) -> list[Entry]:
        """The petitions of a person (keyed hash) received from `start` to `end`."""


@dataclass
class CrossCase:
    """The rows the cross-case rules made and read, by case; and how to read and log more."""

    source: Source | None = None
    log: list[Statement] | None = None
    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    keys: set[tuple[str, str, str, str, int]] = field(default_factory=set)
    people: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    person_rows: list[tuple[Any, ...]] = field(default_factory=list)  # a rebuild's, as made
    member_rows: list[tuple[Any, ...]] = field(default_factory=list)  # as person_rows, of members
    # A rebuild's board rows that no longer change (a hotspot's row once the next one replaced it),
    # as made; their table is then None in `rows`, which keeps them for what they say.
    ended_rows: list[tuple[Any, ...]] = field(default_factory=list)
    areas: dict[tuple[str, str], Area] = field(default_factory=lambda: defaultdict(Area))  # by area, category
    latest: str = ""  # the latest registration's record time (hotspots stand until a record time)
    _read: set[Any] = field(default_factory=set)  # what was read from the source already
    reads: int = 0  # how many times the source was asked, and registrations placed
    _spans: dict[str, tuple[str, str]] = field(default_factory=dict)  # each person's span read

    # ---- rows ---------------------------------------------------------------------------

    def raise_(self, row: Row) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING on (petition_id, rule, level, raised_version)."""
        key = (row[TABLE], row[PID], row[RULE], row[LEVEL], row[VERSION])
        if key in self.keys:
            return False
        self.keys.add(key)
        self.rows[row[PID]].append(row)
        if self.log is not None:
            self.log.append((ADD_ROW, row_params(row)))
        return True

    def clear(self, pid: str, rule: str, level: str, at: str, table: str = BOARD) -> None:
        """Clear the case's standing (never cleared) rows of the rule and level (a rebuild's)."""
        for row in self.rows.get(pid, ()):
            if row[RULE] == rule and row[LEVEL] == level and row[CLEARED] is None and row[TABLE] == table:
                row[CLEARED] = at

    def all_rows(self, table: str) -> list[tuple[Any, ...]]:
        """The rows of a table, without the table column."""
        return [tuple(r[:TABLE]) for rows in self.rows.values() for r in rows if r[TABLE] == table]

    # ---- repeat and after final -------------------------------------------------------------

    def repeat(self, received_at: datetime, people: list[str], matter: str, rules: WarningRules,
               who: Row) -> None:
        """Index the petitioners, then raise when one came within the window or the matter is known."""
        pid, received, number = who[PID], utc(received_at), who[CASE]
        # With every petition in memory (a rebuild), a petitioner never seen before has no other.
        seen = self.source is not None or any(person in self.people for person in people)
        start = end = ""
        if seen:
            window = timedelta(days=rules.repeat_days)
            start, end = utc(received_at - window), utc(received_at + window)
        for person in people:  # (person, received_at, petition_id) is the index's key
            self._read_people(person, start, end)
            known = self.people[person]
            at = bisect_left(known, (received, pid))
            if at == len(known) or known[at][:2] != (received, pid):
                known.insert(at, (received, pid, number))
                if self.source is None:  # a rebuild's table; as events come, the log writes it
                    self.person_rows.append((person, received, pid, number))
                if self.log is not None:
                    self.log.append((ADD_PERSON, {"person": person, "received_at": received,
                                                  "petition_id": pid, "case_number": number}))
        earlier = sorted({case for person in people
                          for _, other, case in within(self.people[person], start, end) if other != pid}
                         ) if seen else []
        if not earlier and not matter:
            return
        detail = matter + (("; " if matter else "") + f"same petitioner within {rules.repeat_days} days as "
                           + listed(earlier) if earlier else "")
        self.raise_([*who[:RULE], "repeat", "yellow", detail, *who[UNIT:CLEARED], None, who[VERSION], BOARD])

    def after_final(self, related: tuple[str, str] | None, rules: WarningRules, at: datetime,
                    who: Row) -> None:
        """Raised for `after_final_days` when the related case (status, case number) is final."""
        if related is None or related[0] != "final":
            return
        until = stamp(datetime.fromisoformat(stamp(at)) + timedelta(days=rules.after_final_days))
        self.raise_([*who[:RULE], "after_final", "orange",
                     f"again on {related[1]}, a matter settled finally (终结)",
                     *who[UNIT:CLEARED], until, who[VERSION], BOARD])

    # ---- hotspots ---------------------------------------------------------------------------

    def place(self, areas: list[str], category: str, day: str, pid: str, case_number: str) -> None:
        """The case's list row, as the hotspot rule finds it in each area it lies in."""
        self.reads += 1  # a registration: what is kept grows with it too
        entry = (day, pid, case_number)
        for area in areas:
            days = self.areas[(area, category)].entries
            if not days or days[-1] < entry:  # most come in the order of their days
                days.append(entry)
            else:
                insort(days, entry)

    def hotspot(self, areas: list[str], area_path: Callable[[str], str], category: str, day: date,
                rules: WarningRules, at: datetime, who: Row) -> None:
        """The new petition in each of its areas, the village first (see projections/hotspots.py)."""
        days, count, when = rules.hotspot_days, rules.hotspot_count, who[RAISED]
        end: str | None = None

        def until() -> str:  # the planned end, for a row raised or moved (made once, when needed)
            nonlocal end
            if end is None:
                end = stamp((at + timedelta(days=days)).astimezone(UTC))
            return end

        pid, case_number, on = who[PID], who[CASE], day.isoformat()
        reach, spans = hotspot_spans(day, days)  # within `days` of the new petition; the windows
        for i, name in enumerate(areas):
            if self.source is not None:
                self._read_area(name, category, *reach)
            area = self.areas[(name, category)]
            entries = area.entries
            # Where those within reach lie in the area's list (every window lies in the reach).
            lo, hi = bisect_left(entries, (reach[0],)), bisect_right(entries, (reach[1], LAST))
            spot = self._standing(area, name, category, when)
            full: list[tuple[str, str]] = []
            if hi - lo >= count:  # else no window can hold enough
                full = [(first[0], last[0]) for first, last in spans
                        if bisect_right(entries, last, lo, hi) - bisect_left(entries, first, lo, hi) >= count]
            # A township hotspot is not raised while the petition's village has one of its own.
            village_free = i == 0 or spot is not None or \
                self._standing(self.areas[(areas[0], category)], areas[0], category, when) is None
            if full and village_free:  # the windows' petitions join the standing hotspot, or make one
                cluster = spot[0].pid if spot else pid
                members = area.members[cluster]
                low, high = min(a for a, _ in full), max(b for _, b in full)
                joined = members.joined
                for d, other, number in within(entries, low, high):
                    if other not in joined:  # most have, at each new petition of a hotspot
                        self._join(name, category, cluster, members, other, number, d)
            if spot is not None:
                standing, row = spot
                members = area.members[standing.pid]
                if members.any_within(*reach):
                    self._join(name, category, standing.pid, members, pid, case_number, on)
                if pid in members:
                    detail = self._detail(members, name, category, days)
                    self._moved(area, standing, row, when, until(), detail)
                continue
            own = area.members.get(pid)
            if own and own.joined:
                self._raise_hotspot(area, Hotspot(name, category, pid, who[VERSION], own.days[-1]), [
                    pid, case_number, "hotspot", "orange", self._detail(own, name, category, days),
                    who[UNIT], who[PERSON], area_path(name), when, until(), who[VERSION], BOARD])

    def _standing(self, area: Area, name: str, category: str, at: str) -> tuple[Hotspot, Row] | None:
        """The area's hotspot of the category standing at `at`, with its board row then."""
        if self.source is not None:
            self._read_hotspots(area, name, category)
        spots = area.hotspots
        if self.source is None and at >= self.latest:
            # Time moved forward only: a hotspot is raised when none stands, and one that no longer
            # stands never stands again, so only the newest can stand now.
            spots = spots[-1:]
        for h in spots:
            row = self._current(area, h, at)
            if row is not None:
                return h, row
        return None

    @staticmethod
    def _current(area: Area, h: Hotspot, at: str) -> Row | None:
        """The hotspot's board row, when it stands at `at`."""
        r = area.rows.get(h.pid)
        return r if r is not None and r[VERSION] == h.version and r[CLEARED] is not None \
            and r[CLEARED] > at else None

    def _join(self, area: str, category: str, cluster: str, members: Cluster, pid: str, number: str,
              day: str) -> None:
        joined = members.join(pid, number, day)
        if joined and self.source is None:  # a rebuild's table, final as made: a member stays one
            self.member_rows.append((area, category, cluster, pid, number, day))
        if joined and self.log is not None:
            self.log.append((ADD_MEMBER, {"area": area, "category": category, "cluster": cluster,
                                          "petition_id": pid, "case_number": number, "received_on": day}))

    def _raise_hotspot(self, area: Area, hotspot: Hotspot, row: Row) -> None:
        area.hotspots.append(hotspot)
        if self.log is not None:
            self.log.append((NEW_HOTSPOT, vars(hotspot).copy()))
        if self.raise_(row):
            area.rows[hotspot.pid] = row

    def _moved(self, area: Area, h: Hotspot, row: Row, when: str, until: str, detail: str) -> None:
        """A join: the hotspot's next row (naming the members so far, planned to end `days` from
        now), the standing one (`row`) cleared at the join, and the hotspot pointing at the new row."""
        following = [*row[:DETAIL], detail, *row[UNIT:RAISED], when, until, h.version + 1, BOARD]
        if self.raise_(following):
            area.rows[h.pid] = following
        row[CLEARED] = when
        if self.log is not None:
            self.log.append((CLEAR_ROW, {"petition_id": h.pid, "raised_version": h.version, "at": when}))
        if self.source is None:  # a rebuild's, final now: no later join finds it current
            self.ended_rows.append(tuple(row[:TABLE]))
            row[TABLE] = None
        h.version += 1
        h.last_day = area.members[h.pid].days[-1]
        if self.log is not None:
            self.log.append((MOVE_HOTSPOT, vars(h).copy()))

    @staticmethod
    def _detail(members: Cluster, area: str, category: str, days: int) -> str:
        names = members.numbers
        return f"{len(names)} petitions on {category} in {area} within {days} days: {listed(names)}"

    # ---- reading what was not made here -------------------------------------------------------

    def _read_area(self, area: str, category: str, low: str, high: str) -> None:
        """The days from `low` to `high` not read yet (a kept CrossCase reads each day once)."""
        if self.source is None:
            return
        first, last = date.fromisoformat(low), date.fromisoformat(high)
        wanted = [(first + timedelta(days=k)).isoformat() for k in range((last - first).days + 1)]
        missing = [d for d in wanted if ("day", area, category, d) not in self._read]
        if not missing:
            return
        self._read.update(("day", area, category, d) for d in wanted if missing[0] <= d <= missing[-1])
        self.reads += 1
        days = self.areas[(area, category)].entries
        known = {pid for _, pid, _ in within(days, missing[0], missing[-1])}
        for entry in self.source.area(area, category, missing[0], missing[-1]):
            if entry[1] not in known:
                insort(days, entry)

    def _read_hotspots(self, area: Area, name: str, category: str) -> None:
        if self.source is None or ("hotspots", name, category) in self._read:
            return
        self._read.add(("hotspots", name, category))
        self.reads += 1
        for hotspot, row, members in self.source.hotspots(name, category):
            area.hotspots.append(hotspot)
            self.keys.add((row[TABLE], row[PID], row[RULE], row[LEVEL], row[VERSION]))
            self.rows[hotspot.pid].append(row)
            area.rows[hotspot.pid] = row
            cluster = area.members[hotspot.pid]
            for pid, (number, day) in members.items():
                cluster.join(pid, number, day)

    def _read_people(self, person: str, start: str, end: str) -> None:
        """The person's petitions from `start` to `end` not read yet: each person's span read so
        far is one interval, widened by what lies outside it."""
        if self.source is None:
            return
        low, high = self._spans.get(person, (end, end))
        parts = [(start, end)] if person not in self._spans else []
        if person in self._spans:
            parts = [p for p in ((start, low), (high, end)) if p[0] < p[1]]
        if not parts:
            return
        self._spans[person] = (min(low, start), max(high, end))
        known = self.people[person]
        for part in parts:
            self.reads += 1
            for entry in self.source.people(person, *part):
                at = bisect_left(known, entry[:2])
                if at == len(known) or known[at][:2] != entry[:2]:
                    known.insert(at, entry)

    # ---- a rebuild's tables ---------------------------------------------------------------------

    def hotspot_rows(self) -> list[tuple[Any, ...]]:
        """The hotspots table."""
        return [(h.area, h.category, h.pid, h.version, h.last_day)
                for area in self.areas.values() for h in area.hotspots]


def utc(moment: datetime) -> str:
    """A moment in UTC, as the list's received_at column holds it."""
    return stamp(moment.astimezone(UTC))
