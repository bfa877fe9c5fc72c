"""The early-warning board (预警): warnings raised and cleared as the cases change, by record time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.petition import Petition
from domain.warnings import case_warnings
from projections.store import Statement, Views, stamp
from projections.subtree import below, within

DDL = (
    "CREATE TABLE IF NOT EXISTS {s}warning_board ("
    " petition_id TEXT NOT NULL, case_number TEXT NOT NULL, rule TEXT NOT NULL, level TEXT NOT NULL,"
    " detail TEXT NOT NULL, responsible_unit TEXT NOT NULL, responsible_person TEXT NOT NULL,"
    " unit_path TEXT NOT NULL, raised_at TEXT NOT NULL, cleared_at TEXT, raised_version INTEGER NOT NULL,"
    " PRIMARY KEY (petition_id, rule, level, raised_version))",
    "CREATE INDEX IF NOT EXISTS warning_board_open ON {s}warning_board (cleared_at, unit_path)",
    # The board reads newest first: standing warnings from a partial index (as many as stand,
    # however long the history), the ones cleared since a past moment from raised_at backwards.
    "CREATE INDEX IF NOT EXISTS warning_board_standing ON {s}warning_board (raised_at)"
    " WHERE cleared_at IS NULL",
    "CREATE INDEX IF NOT EXISTS warning_board_raised ON {s}warning_board (raised_at)",
)
RAISE = (
    "INSERT INTO {s}warning_board VALUES (%(petition_id)s, %(case_number)s, %(rule)s, %(level)s,"
    " %(detail)s, %(responsible_unit)s, %(responsible_person)s, %(unit_path)s, %(at)s, NULL,"
    " %(version)s) ON CONFLICT DO NOTHING"
)
CLEAR = (
    "UPDATE {s}warning_board SET cleared_at = %(at)s WHERE petition_id = %(petition_id)s"
    " AND rule = %(rule)s AND level = %(level)s AND cleared_at IS NULL"
)
LEVEL_ORDER = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}


def standing(petition: Petition) -> dict[tuple[str, str], str]:
    """The event-driven warnings a case raises, by (rule, level), with their details.

    Rules that depend only on what was recorded: overdue (a deadline recorded or closed missed),
    group, urgent until escalated, dissatisfied, and due soon once the scheduler recorded it
    (DeadlineApproaching), until that deadline closes, is missed or moves.
    """
    found = {(w.rule, w.level): w.detail for w in case_warnings(petition, None)}
    soon = petition.approaching_deadlines()
    if soon:
        found[("due_soon", "yellow")] = "; ".join(f"{d.clock} is due {d.due.isoformat()}"
                                                   for _, d in soon)
    return found


def changes(before: dict[tuple[str, str], str], after: Petition, at: datetime,
            path: Any) -> list[Statement]:
    """Raise what the event started, clear what it ended, at the event's record time."""
    now = standing(after)
    when = stamp(at)
    common = {"petition_id": str(after.id), "at": when}
    statements: list[Statement] = []
    for (rule, level), detail in now.items():
        if (rule, level) not in before:
            statements.append((RAISE, {**common, "case_number": after.case_number, "rule": rule,
                                       "level": level, "detail": detail,
                                       "responsible_unit": after.responsible_unit,
                                       "responsible_person": after.responsible_person,
                                       "unit_path": path(after.responsible_unit),
                                       "version": after.version}))
    for rule, level in before:
        if (rule, level) not in now:
            statements.append((CLEAR, {**common, "rule": rule, "level": level}))
    return statements


def board(views: Views, within_path: str, as_of: datetime, level: str | None = None,
          rule: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Warnings standing at `as_of` (record time) in a subtree, most severe first.

    Two parts, each read newest first from its own index and cut at the limit: those standing
    still (never cleared), and those cleared after `as_of` (none when reading the board now).
    """
    where = [within("unit_path", "within"), "raised_at <= %(t)s"]
    params: dict[str, Any] = {"within": below(within_path), "limit": limit,
                              "t": stamp(as_of)}
    if level is not None:
        where.append("level = %(level)s")
        params["level"] = level
    if rule is not None:
        where.append("rule = %(rule)s")
        params["rule"] = rule
    columns = ("petition_id, case_number, rule, level, detail, responsible_unit, responsible_person,"
               " raised_at, cleared_at")
    wanted = [("cleared_at IS NULL", "standing")]
    [latest] = views.query("SELECT MAX(cleared_at) AS m FROM {s}warning_board")
    if latest["m"] is not None and latest["m"] > params["t"]:  # a past moment: some cleared since
        wanted.append(("cleared_at > %(t)s", "cleared_since"))
    parts = [f"SELECT * FROM (SELECT {columns} FROM {{s}}warning_board WHERE {cond} AND"
             f" {' AND '.join(where)} ORDER BY raised_at DESC LIMIT %(limit)s) AS {name}"
             for cond, name in wanted]
    rows = views.query(" UNION ALL ".join(parts) + " ORDER BY raised_at DESC LIMIT %(limit)s", params)
    return sorted(rows, key=lambda r: LEVEL_ORDER.get(r["level"], 9))
