"""Board rules that look beyond one event: repeat, after final, skip-level, hotspot, and the settings.

The rules that compare a new petition with other cases are decided in projections/cross_case.py;
here the projection asks for them, keeps the admin's settings, and re-decides group warnings (in
SQL, over every case at once) when the settings change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple

from domain.directory import LEVELS
from domain.events import ENDED
from domain.petition import Petition
from domain.petition_state import OPEN_STATUSES
from domain.rules import WarningRules, WarningRuleSettings
from projections.board import CLEAR, RAISE, standing
from projections.cross_case import RAISED, CrossCase
from projections.hotspots import COLUMNS
from projections.hotspots import DDL as HOTSPOT_DDL
from projections.hotspots import TABLES as HOTSPOT_TABLES
from projections.store import Statement, Views, stamp

# The decorator makes the event classes, which mypy cannot see.
RULE_EVENTS = (WarningRuleSettings.Created, WarningRuleSettings.Changed)  # type: ignore[attr-defined]
DDL = (
    # Every rule setting ever recorded, by version: the projection's current rules after a restart,
    # and the rules as of a past moment for the board's read.
    "CREATE TABLE IF NOT EXISTS {s}board_settings ("
    " version INTEGER PRIMARY KEY, recorded_at TEXT NOT NULL, rules TEXT NOT NULL)",
    # Petitioners by a keyed hash of their ID number (never the number): for the repeat rule.
    "CREATE TABLE IF NOT EXISTS {s}petitioner_index ("
    " person TEXT NOT NULL, received_at TEXT NOT NULL, petition_id TEXT NOT NULL,"
    " case_number TEXT NOT NULL, PRIMARY KEY (person, received_at, petition_id)){clustered}",
    *HOTSPOT_DDL,
    # When each case ended: the board's read raises warnings of cases still open then.
    "CREATE TABLE IF NOT EXISTS {s}case_ended (petition_id TEXT PRIMARY KEY, ended_at TEXT NOT NULL)"
    "{clustered}",
    # Open cases of key persons (重点人员): shown only during a sensitive period.
    "CREATE TABLE IF NOT EXISTS {s}key_person_board ("
    " petition_id TEXT NOT NULL, case_number TEXT NOT NULL, rule TEXT NOT NULL, level TEXT NOT NULL,"
    " detail TEXT NOT NULL, responsible_unit TEXT NOT NULL, responsible_person TEXT NOT NULL,"
    " unit_path TEXT NOT NULL, raised_at TEXT NOT NULL, cleared_at TEXT, raised_version INTEGER NOT NULL,"
    " PRIMARY KEY (petition_id, rule, level, raised_version))",
    "CREATE INDEX IF NOT EXISTS key_person_board_open ON {s}key_person_board (cleared_at, unit_path)",
)
TABLES = ("board_settings", "petitioner_index", *HOTSPOT_TABLES, "case_ended", "key_person_board")
KEY_PERSON = ("key_person", "blue")
SETTINGS = "INSERT INTO {s}board_settings VALUES (%(version)s, %(at)s, %(rules)s) ON CONFLICT DO NOTHING"
ENDED_AT = "INSERT INTO {s}case_ended VALUES (%(petition_id)s, %(at)s) ON CONFLICT DO NOTHING"
CLEAR_REPEAT = ("UPDATE {s}warning_board SET cleared_at = %(at)s WHERE petition_id = %(petition_id)s"
                " AND rule = 'repeat' AND level = 'yellow' AND cleared_at IS NULL")
GROUP_LEVEL = ("CASE WHEN c.headcount >= %(red)s THEN 'red' WHEN c.headcount >= %(orange)s"
               " THEN 'orange' ELSE '' END")
# A rules change re-decides the group warnings of every case at once (a rare, admin-made event).
# What it raises takes the settings' version, negated, as its raised_version: the case's version
# has not moved, and a warning cleared and raised again by two changes must not collide.
OPEN_SQL = ", ".join(f"'{status}'" for status in sorted(OPEN_STATUSES))  # constants only
REGROUP = (
    "UPDATE {s}warning_board SET cleared_at = %(at)s WHERE rule = 'group' AND cleared_at IS NULL"
    f" AND level <> (SELECT {GROUP_LEVEL} FROM {{s}}case_list c WHERE c.id = {{s}}warning_board.petition_id)",
    f"INSERT INTO {{s}}warning_board {COLUMNS} SELECT c.id, c.case_number, 'group', {GROUP_LEVEL},"
    " 'group petition of ' || c.headcount || ' people', c.responsible_unit, c.responsible_person,"
    " c.responsible_path, %(at)s, NULL, %(negated)s FROM {s}case_list c WHERE c.headcount >= %(orange)s"
    f" AND c.status IN ({OPEN_SQL})"
    " AND NOT EXISTS (SELECT 1 FROM {s}warning_board w WHERE w.petition_id = c.id AND w.rule = 'group'"
    " AND w.cleared_at IS NULL) ON CONFLICT DO NOTHING",
)
class Arrival(NamedTuple):
    """What the cross-case rules take of a new petition (people: keyed hashes of ID numbers)."""

    pid: str
    case_number: str
    responsible_unit: str
    responsible_person: str
    version: int
    people: tuple[str, ...]
    related_case_id: str | None
    related_case_number: str | None
    received_at: datetime
    day: date
    location_unit: str
    category: str


class BoardRules:
    """The projection's part for the admin-set rules: its current settings, and their statements."""

    def __init__(self, path: Callable[[str], str], level_of: Callable[[str], str | None],
                 person_key: bytes | None) -> None:
        self._path, self._level_of, self._key = path, level_of, person_key
        self._areas: dict[str, list[str]] = {}
        self._skips: dict[tuple[str, str], str | None] = {}  # skip-level, by the case's two units
        self.rules: WarningRules | None = None

    # ---- settings ---------------------------------------------------------------------

    def refresh(self, views: Views) -> None:
        """Take the current settings from the view (after a restart, a rollback or another projector)."""
        rows = views.query("SELECT rules FROM {s}board_settings ORDER BY version DESC LIMIT 1")
        self.rules = WarningRules.from_dict(json.loads(rows[0]["rules"])) if rows else WarningRules()

    def current(self) -> WarningRules:
        """The settings in force for the event being projected."""
        return self.rules or WarningRules()

    def rules_changed(self, event: Any) -> list[Statement]:
        """Keep the new settings from here on, and re-decide group warnings by them."""
        self.rules = WarningRules.from_dict(event.rules)
        at = stamp(event.timestamp)
        return [(SETTINGS, {"version": event.originator_version, "at": at,
                            "rules": json.dumps(event.rules, ensure_ascii=False, sort_keys=True)}),
                *((sql, {"at": at, "orange": self.rules.group_orange, "red": self.rules.group_red,
                         "negated": -event.originator_version}) for sql in REGROUP)]

    # ---- one case's own warnings --------------------------------------------------------

    def standing(self, petition: Petition) -> dict[tuple[str, str], str]:
        """The case's event-driven warnings by the current settings, with skip-level and key person."""
        rules = self.current()
        found = standing(petition)  # a new dict: the group rule is decided here, by the settings
        if not petition.is_open:  # the rules below stand only while the case is open
            return found
        found.pop(("group", "orange"), None)
        found.pop(("group", "red"), None)
        if petition.headcount >= rules.group_orange:
            level = "red" if petition.headcount >= rules.group_red else "orange"
            found[("group", level)] = f"group petition of {petition.headcount} people"
        skipped = self._skipped(petition)
        if skipped:
            found[("skip_level", "orange")] = skipped
        if petition.key_person:
            found[KEY_PERSON] = "key person (重点人员) with an open case"
        return found

    def _skipped(self, petition: Petition) -> str | None:
        """越级访: a visit received two or more levels above the competent unit. The competent
        unit is where the matter lies, but a villager group is no organ: its village answers.
        Letters, calls and online petitions may go to any level, so only visits count.
        Remembered by the two units once found: a unit's level never changes (units are only
        added), and the views ask after every event of a case."""
        if petition.channel != "visit":
            return None
        units = (petition.receiving_unit, petition.location_unit)
        if units in self._skips:
            return self._skips[units]
        received, location = self._level_of(units[0]), self._level_of(units[1])
        found = self._skip_level(*units, received, location)
        if received is not None and location is not None:  # (a unit not known yet may be added later)
            self._skips[units] = found
        return found

    @staticmethod
    def _skip_level(receiving_unit: str, location_unit: str, received: str | None,
                    location: str | None) -> str | None:
        if received not in LEVELS or location not in LEVELS:
            return None
        competent = "village" if location == "group" else location
        if LEVELS.index(competent) - LEVELS.index(received) < 2:
            return None
        return (f"visit received at {receiving_unit} ({received}) on a matter of "
                f"{location_unit} (competent level: {competent}): above that level plus one")

    def changes(self, before: dict[tuple[str, str], str], after: Petition, at: datetime) -> list[Statement]:
        """Raise and clear as the event changed the case; the key-person marker has a table of its own."""
        now = self.standing(after)
        common = {"petition_id": str(after.id), "at": stamp(at)}
        statements: list[Statement] = []
        for key, detail in now.items():
            if key not in before:
                statements.append((self._table(RAISE, key), {
                    **common, "case_number": after.case_number, "rule": key[0], "level": key[1],
                    "detail": detail, "responsible_unit": after.responsible_unit,
                    "responsible_person": after.responsible_person,
                    "unit_path": self._path(after.responsible_unit), "version": after.version}))
        for key in before:
            if key not in now:
                statements.append((self._table(CLEAR, key), {**common, "rule": key[0], "level": key[1]}))
        if after.status in ENDED:
            statements += [(CLEAR_REPEAT, common), (ENDED_AT, common)]
        return statements

    @staticmethod
    def _table(sql: str, key: tuple[str, str]) -> str:
        return sql.replace("{s}warning_board", "{s}key_person_board") if key == KEY_PERSON else sql

    # ---- a registration compared with other cases ----------------------------------------

    def person(self, id_number: str) -> str:
        """The keyed hash the views keep instead of an ID number."""
        assert self._key is not None
        return hmac.new(self._key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()

    def arrival(self, petition: Petition) -> Arrival:
        """What the cross-case rules take of a new petition."""
        people = tuple(sorted({self.person(p["id_number"]) for p in petition.petitioners
                               if self._key is not None and p.get("id_number")}))
        related = str(petition.related_case_id) if petition.related_case_id else None
        return Arrival(str(petition.id), petition.case_number, petition.responsible_unit,
                       petition.responsible_person, petition.version, people, related,
                       petition.related_case_number, petition.received_at,
                       petition.office_date(petition.received_at), petition.location_unit,
                       petition.category)

    def registered(self, petition: Petition, at: datetime, cross: CrossCase,
                   related: Callable[[str], tuple[str, str] | None]) -> None:
        """Repeat, after final and hotspot for a new petition (after its list row), decided in
        `cross`; `related` gives a case's status and number as they stand at this event."""
        self.arrived(self.arrival(petition), at, cross, related)

    def arrived(self, new: Arrival, at: datetime, cross: CrossCase,
                related: Callable[[str], tuple[str, str] | None]) -> None:
        """`registered`, from what the rules take of the petition."""
        rules, who = self.current(), self.who(new, at)
        matter = f"same matter as {new.related_case_number}" if new.related_case_number else ""
        cross.repeat(new.received_at, list(new.people), matter, rules, who)
        if new.related_case_id:
            cross.after_final(related(new.related_case_id), rules, at, who)
        areas = self.areas(new.location_unit)  # placed only where the hotspot rule looks
        cross.place(areas, new.category, new.day.isoformat(), new.pid, new.case_number)
        cross.hotspot(areas, self._path, new.category, new.day, rules, at, who)
        cross.latest = max(cross.latest, who[RAISED])  # the registration's time, stamped

    def who(self, new: Arrival, at: datetime) -> list[Any]:
        """A board row's columns naming the new petition (the rule's own columns left None)."""
        return [new.pid, new.case_number, None, None, None, new.responsible_unit,
                new.responsible_person, self._path(new.responsible_unit), stamp(at), None, new.version]

    def areas(self, location: str) -> list[str]:
        """The hotspot areas ("in one village/township"): the village the location is or lies in (a
        villager group's village), then its township; a county's own matter lies in neither.
        Remembered once found: a unit's place in the tree never changes (units are only added)."""
        known = self._areas.get(location)
        if known is not None:
            return known
        codes = [c for c in self._path(location).strip("/").split("/") if c]
        if location not in codes:
            return []
        found = [c for level in ("village", "township") for c in codes if self._level_of(c) == level]
        if found:
            self._areas[location] = found
        return found
