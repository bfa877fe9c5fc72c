"""The board as read: the stored warnings, raised a level during a sensitive period (敏感时期).

A sensitive period depends on the moment the board is read for, not on any event, so it is
applied here, with the settings recorded by that moment (from the view's settings table).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any

from domain.rules import WarningRules
from domain.warnings import LEVELS
from projections.board import LEVEL_ORDER, board
from projections.board_rules import stamp
from projections.subtree import below, within

SENSITIVE = "sensitive_period"


def rules_at(views: Any, as_of: datetime) -> WarningRules:
    """The settings recorded by `as_of` (record time); the defaults before any was."""
    rows = views.query("SELECT rules FROM {s}board_settings WHERE recorded_at <= %(t)s"
                       " ORDER BY version DESC LIMIT 1", {"t": stamp(as_of.astimezone(UTC))})
    return WarningRules.from_dict(json.loads(rows[0]["rules"])) if rows else WarningRules()


def raised(level: str) -> str:
    """One level up: blue → yellow → orange → red; red stays red."""
    return LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]


def warnings_at(views: Any, within_path: str, as_of: datetime, tz: tzinfo, level: str | None = None,
                rule: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Warnings standing at `as_of` in a subtree, sensitive periods applied, most severe first."""
    as_of = as_of.astimezone(UTC)
    periods = rules_at(views, as_of).periods_on(as_of.astimezone(tz).date())
    if not periods:
        return [] if rule == SENSITIVE else board(views, within_path, as_of, level=level, rule=rule,
                                                  limit=limit)
    names = ", ".join(p.name for p in periods)
    rows = [] if rule == SENSITIVE else board(views, within_path, as_of, rule=rule, limit=limit)
    ended = _ended(views, [r["petition_id"] for r in rows], as_of)
    for r in rows:
        if r["petition_id"] not in ended:
            r["level"] = raised(r["level"])
            r["detail"] = f"{r['detail']} (raised one level: sensitive period {names})"
    if rule in (None, SENSITIVE):
        rows += [{**r, "rule": SENSITIVE, "level": raised(r["level"]),
                  "detail": f"{r['detail']}, during the sensitive period {names}"}
                 for r in _key_people(views, within_path, as_of, limit)]
    if level is not None:
        rows = [r for r in rows if r["level"] == level]
    rows.sort(key=lambda r: str(r["raised_at"]), reverse=True)
    rows.sort(key=lambda r: LEVEL_ORDER.get(r["level"], 9))  # stable: newest first within a level
    return rows[:limit]


def _ended(views: Any, ids: list[str], as_of: datetime) -> set[str]:
    """Those of the cases that had ended by `as_of`."""
    found: set[str] = set()
    for start in range(0, len(ids), 200):
        chunk = {f"p{i}": pid for i, pid in enumerate(ids[start:start + 200])}
        rows = views.query(
            "SELECT petition_id FROM {s}case_ended WHERE ended_at <= %(t)s AND petition_id IN ("
            + ", ".join(f"%({k})s" for k in chunk) + ")", {**chunk, "t": stamp(as_of)})
        found |= {r["petition_id"] for r in rows}
    return found


def _key_people(views: Any, within_path: str, as_of: datetime, limit: int) -> list[dict[str, Any]]:
    """Open cases of key persons at `as_of` in the subtree."""
    return list(views.query(
        "SELECT petition_id, case_number, rule, level, detail, responsible_unit, responsible_person,"
        " raised_at, cleared_at FROM {s}key_person_board WHERE " + within("unit_path", "within") +
        " AND raised_at <= %(t)s AND (cleared_at IS NULL OR cleared_at > %(t)s)"
        " ORDER BY raised_at DESC LIMIT %(limit)s",
        {"within": below(within_path), "t": stamp(as_of), "limit": limit}))
