"""Responsibility facts: who was responsible for what, charged at the moment it happened."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, NamedTuple

from domain import events as ev
from domain.deadlines import Deadline
from domain.petition import Petition
from projections.store import Statement, Views
from projections.subtree import below, within

DDL = (
    "CREATE TABLE IF NOT EXISTS {s}responsibility_facts ("
    " petition_id TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL, day TEXT NOT NULL,"
    " kind TEXT NOT NULL, unit TEXT NOT NULL, unit_path TEXT NOT NULL, person TEXT NOT NULL,"
    " PRIMARY KEY (day, petition_id, version, seq)){clustered}",
)
# Keyed by day first, and on SQLite kept in that order (the table is its key's tree): the summaries
# read a period, and a rebuild's facts, coming in about the order of their days, go in at the end
# of the tree rather than anywhere in it. A fact is one event's (petition_id, version, seq); the
# day in the key is worked out from the event and the petition's own state alone, the same on
# every replay, so a batch applied again adds nothing (ON CONFLICT DO NOTHING).
FACT_COLUMNS = ("petition_id", "version", "seq", "day", "kind", "unit", "unit_path", "person")
INSERT_FACT = (
    "INSERT INTO {s}responsibility_facts VALUES (%(petition_id)s, %(version)s, %(seq)s, %(day)s,"
    " %(kind)s, %(unit)s, %(unit_path)s, %(person)s) ON CONFLICT DO NOTHING"
)
ENDINGS = frozenset({ev.Closed, ev.RereviewDecided, ev.Redirected, ev.Declined})
KINDS = ("received", "closed", "met", "missed", "satisfied", "basically_satisfied", "dissatisfied",
         "escalated", "supervised", "packaged")
# Each verdict on a deadline again, dated by its due date: summaries count deadlines by due date.
DUE_KINDS = ("due_met", "due_missed")


class Before(NamedTuple):
    """What the projection needs of a petition just before an event (a tuple: a rebuild makes one
    for every event of the history)."""

    unit: str
    person: str
    deadlines: tuple[Deadline, ...]  # as they were (a deadline never changes: a new one replaces it)
    warnings: dict[tuple[str, str], str]

    @classmethod
    def of(cls, petition: Petition, warnings: dict[tuple[str, str], str]) -> Before:
        """Take it from the petition (and the warnings it raised, worked out by the caller)."""
        return cls(petition.responsible_unit, petition.responsible_person,
                   tuple(petition.deadlines), warnings)


def facts(event: Any, before: Before | None, after: Petition, path: Any) -> list[Statement]:
    """The facts an event adds, each charged to whoever was responsible when it happened."""
    return [(INSERT_FACT, dict(zip(FACT_COLUMNS, values, strict=True)))
            for values in fact_rows(event, before, after, path, str(after.id))]


def fact_rows(event: Any, before: Before | None, after: Petition, path: Any,
              pid: str) -> list[tuple[Any, ...]]:
    """`facts` as the table's rows (a rebuild makes them for every event of the history)."""
    found: list[tuple[str, str, str]] = []
    by_due: list[tuple[str, str, str, str]] = []
    if before is None:
        found.append(("received", after.receiving_unit, after.registered_by))
    else:
        unit, person, was = before.unit, before.person, before.deadlines
        cls = type(event)  # none of these events has a subclass
        sweep = cls is ev.DeadlineMissed
        for i, deadline in enumerate(after.deadlines):
            if i < len(was) and (deadline is was[i] or deadline.status == was[i].status):
                continue  # unchanged (most: the very deadline the event left as it was)
            if deadline.is_petitioner_window:
                continue
            status = deadline.status
            if status == "met":
                found.append(("met", unit, person))
            elif status == "missed" and not sweep:
                found.append(("missed", unit, person))  # closed late, the sweep never saw it
            if status == "met" or status == "missed":
                charged = (event.responsible_unit, event.responsible_person) if sweep else (unit, person)
                by_due.append((f"due_{status}", *charged, deadline.due.isoformat()))
        if sweep:
            found.append(("missed", event.responsible_unit, event.responsible_person))
        elif cls in ENDINGS:
            found.append(("closed", unit, person))
        elif cls is ev.Rated:
            found.append((event.satisfaction, unit, person))
        elif cls is ev.Escalated:
            found.append(("escalated", unit, person))
        elif cls is ev.Supervised:
            found.append(("supervised", unit, person))
        elif cls is ev.Packaged:
            found.append(("packaged", unit, event.leader))
    version = after.version
    rows: list[tuple[Any, ...]] = []
    if found:
        day = after.office_date(getattr(event, "at", after.registered_at)).isoformat()
        for kind, unit, person in found:
            rows.append((pid, version, len(rows), day, kind, unit, path(unit), person))
    for kind, unit, person, on in by_due:
        rows.append((pid, version, len(rows), on, kind, unit, path(unit), person))
    return rows


def figures(counts: dict[str, int]) -> dict[str, Any]:
    """The domain page's figures from counts of facts."""
    rated = counts["satisfied"] + counts["basically_satisfied"] + counts["dissatisfied"]
    judged = counts["met"] + counts["missed"]
    return {
        **{k: counts[k] for k in KINDS},
        "on_time_rate": round(counts["met"] / judged, 4) if judged else None,
        "satisfaction_rate": (round((counts["satisfied"] + counts["basically_satisfied"]) / rated, 4)
                              if rated else None),
    }


def responsibility(views: Views, within_path: str, start: date, end: date) -> dict[str, Any]:
    """Per unit and per person, the facts of the period, and the cases each holds open now."""
    rows = views.query(
        "SELECT unit, person, kind, COUNT(*) AS n FROM {s}responsibility_facts"
        f" WHERE {within('unit_path', 'within')} AND day >= %(start)s AND day <= %(end)s"
        " GROUP BY unit, person, kind",
        {"within": below(within_path), "start": start.isoformat(), "end": end.isoformat()})
    units: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    people: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    for r in rows:
        if r["kind"] in DUE_KINDS:
            continue  # the same verdicts by due date, for the summaries
        units[r["unit"]][r["kind"]] += int(r["n"])
        people[(r["unit"], r["person"])][r["kind"]] += int(r["n"])
    open_rows = views.query(
        "SELECT responsible_unit, responsible_person, COUNT(*) AS n FROM {s}case_list"
        f" WHERE {within('responsible_path', 'within')} AND status NOT IN"
        " ('redirected', 'declined', 'closed', 'final') GROUP BY responsible_unit, responsible_person",
        {"within": below(within_path)})
    open_units: dict[str, int] = defaultdict(int)
    open_people: dict[tuple[str, str], int] = {}
    for r in open_rows:
        open_units[r["responsible_unit"]] += int(r["n"])
        open_people[(r["responsible_unit"], r["responsible_person"])] = int(r["n"])
        units.setdefault(r["responsible_unit"], dict.fromkeys(KINDS, 0))
        people.setdefault((r["responsible_unit"], r["responsible_person"]), dict.fromkeys(KINDS, 0))
    return {
        "from": start, "to": end,
        "units": [{"unit": u, "open": open_units.get(u, 0), **figures(c)} for u, c in sorted(units.items())],
        "people": [{"unit": u, "person": p, "open": open_people.get((u, p), 0), **figures(c)}
                   for (u, p), c in sorted(people.items())],
    }
