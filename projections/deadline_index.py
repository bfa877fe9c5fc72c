"""The deadline index: every running deadline of every case, for the scheduler's jobs.

Each job asks one indexed question (what passed, what is close, what lapsed, what is overdue
beyond the grace and not yet supervised), so the cases it loads are the cases that need acting
on. The due-soon question scans the index entries due within the share's horizon (up to 40
days ahead with the default 20 %), in SQL only; the others are bounded by what is due.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from domain.deadlines import Deadline
from domain.petition import Petition
from projections.store import Views

DDL = (
    "CREATE TABLE IF NOT EXISTS {s}deadline_index ("
    " petition_id TEXT NOT NULL, idx INTEGER NOT NULL, clock TEXT NOT NULL, due TEXT NOT NULL,"
    " status TEXT NOT NULL, responsible_unit TEXT NOT NULL, responsible_person TEXT NOT NULL,"
    " due_day INTEGER NOT NULL, span INTEGER NOT NULL, noticed INTEGER NOT NULL,"
    " supervised INTEGER NOT NULL, petitioner_window INTEGER NOT NULL,"
    " PRIMARY KEY (petition_id, idx)){clustered}",
    # The jobs page through what is due in (due, case) order: this index answers them without
    # touching the rows of the cases that need nothing.
    "CREATE INDEX IF NOT EXISTS deadline_index_due ON {s}deadline_index (status, due, petition_id)",
)
DELETE_DEADLINES = "DELETE FROM {s}deadline_index WHERE petition_id = %(id)s"
INSERT_DEADLINE = (
    "INSERT INTO {s}deadline_index VALUES (%(petition_id)s, %(idx)s, %(clock)s, %(due)s,"
    " %(status)s, %(responsible_unit)s, %(responsible_person)s, %(due_day)s, %(span)s,"
    " %(noticed)s, %(supervised)s, %(petitioner_window)s)"
)
LONGEST_CLOCK_DAYS = 200  # longer than any clock with its extension, counted in calendar days


COLUMNS = ("petition_id", "idx", "clock", "due", "status", "responsible_unit", "responsible_person",
           "due_day", "span", "noticed", "supervised", "petitioner_window")


def running(petition: Petition) -> list[tuple[int, Deadline]]:
    """The case's running deadlines with their places (a rebuild takes them once for both the
    list row and these rows: reading a case's deadlines is most of the cost of either)."""
    return [(i, d) for i, d in enumerate(petition.deadlines) if d.is_running]


def deadline_values(petition: Petition, pid: str,
                    deadlines: list[tuple[int, Deadline]]) -> list[tuple[Any, ...]]:
    """`deadline_rows` as the table's rows, from the case's `running` deadlines."""
    if not deadlines:
        return []
    supervised_on = [petition.office_date(datetime.fromisoformat(s["at"])) for s in petition.supervisions]
    flagged = petition.flagged_due_soon()
    unit, person = petition.responsible_unit, petition.responsible_person
    made = []
    for i, d in deadlines:
        due = d.due.isoformat()
        made.append((pid, i, d.clock, due, d.status, unit, person, d.due.toordinal(),
                     max((d.due - d.starts).days, 1), int(flagged.get(str(i)) == due),
                     int(any(day > d.due for day in supervised_on)), int(d.is_petitioner_window)))
    return made


def deadline_rows(petition: Petition) -> list[dict[str, Any]]:
    """The running deadlines of a petition, the petitioner's request windows marked as such."""
    return [dict(zip(COLUMNS, values, strict=True))
            for values in deadline_values(petition, str(petition.id), running(petition))]


def _ids(views: Views, where: str, params: dict[str, Any], after: str, limit: int) -> list[str]:
    """Keys "due|case id" of the deadlines matching, in (due, case) order, after the key `after`.

    Paging by due day first keeps the search on the (status, due, petition_id) index: its cost
    follows the deadlines that match, not all the open ones (ordering by case id would walk them
    all). A case with two matching deadlines comes twice; the jobs act on it once."""
    after_due, _, after_id = after.partition("|")
    rows = views.query(
        f"SELECT due, petition_id FROM {{s}}deadline_index WHERE {where}"
        " AND (due, petition_id) > (%(after_due)s, %(after_id)s)"
        " ORDER BY due, petition_id LIMIT %(limit)s",
        {**params, "after_due": after_due, "after_id": after_id, "limit": limit})
    return [f"{r['due']}|{r['petition_id']}" for r in rows]


def case_of(key: str) -> str:
    """The case id in a key the queries below return."""
    return key.rpartition("|")[2]


def due_before(views: Views, day: date, after: str = "", limit: int = 1000) -> list[str]:
    """Keys (see _ids) of the open office deadlines due before `day`."""
    return _ids(views, "status = 'open' AND due < %(day)s AND petitioner_window = 0",
                {"day": day.isoformat()}, after, limit)


def approaching(views: Views, today: date, days: int, share: float, *, revisit: bool,
                after: str = "", limit: int = 1000) -> list[str]:
    """Cases with an open office deadline due soon and not yet flagged (revisit clocks, or the rest)."""
    horizon = today + timedelta(days=max(days, math.ceil(share * LONGEST_CLOCK_DAYS)))
    return _ids(
        views,
        "status = 'open' AND due >= %(today)s AND due <= %(horizon)s AND petitioner_window = 0"
        f" AND noticed = 0 AND clock {'=' if revisit else '<>'} 'revisit'"
        " AND (due_day - %(t)s <= %(days)s OR due_day - %(t)s <= %(share)s * span)",
        {"today": today.isoformat(), "horizon": horizon.isoformat(), "t": today.toordinal(),
         "days": days, "share": share}, after, limit)


def lapsed_windows(views: Views, today: date, after: str = "", limit: int = 1000) -> list[str]:
    """Cases whose petitioner's request window passed with no request."""
    return _ids(views, "status = 'open' AND due < %(today)s AND petitioner_window = 1",
                {"today": today.isoformat()}, after, limit)


def overdue_unsupervised(views: Views, today: date, grace_days: int, after: str = "",
                         limit: int = 1000) -> list[str]:
    """Cases with an office deadline missed more than `grace_days` ago and no supervision since."""
    cutoff = today - timedelta(days=grace_days)
    # Open as well as missed: the sweep may not have recorded the miss yet (or not projected it).
    # Not the revisit, the one clock still running on a case that ended (closed or final), which
    # no one supervises: without this the job would reread such cases on every run.
    return _ids(views, "status IN ('open', 'missed') AND due < %(cutoff)s AND petitioner_window = 0"
                " AND clock <> 'revisit'"
                " AND supervised = 0", {"cutoff": cutoff.isoformat()}, after, limit)
