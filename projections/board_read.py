"""The board as read: the stored warnings, raised a level during a sensitive period (敏感时期).

A sensitive period depends on the moment the board is read for, not on any event, so it is
applied here, with the settings recorded by that moment (from the view's settings table).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, tzinfo
from typing import Any

from domain.errors import InvalidField
from domain.rules import WarningRules
from domain.warnings import LEVELS
from projections.store import stamp
from projections.subtree import below, within

SENSITIVE = "sensitive_period"


def rules_at(views: Any, as_of: datetime) -> WarningRules:
    """The settings recorded by `as_of` (record time); the defaults before any was."""
    rows = views.query("SELECT rules FROM {s}board_settings WHERE recorded_at <= %(t)s"
                       " ORDER BY version DESC LIMIT 1", {"t": stamp(as_of.astimezone(UTC))})
    return WarningRules.from_dict(json.loads(rows[0]["rules"])) if rows else WarningRules()


def warnings_at(views: Any, within_path: str, as_of: datetime, tz: tzinfo, level: str | None = None,
                rule: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """The first `limit` warnings standing at `as_of` in a subtree (see `board_page`)."""
    return board_page(views, within_path, as_of, tz, level=level, rule=rule, limit=limit)[0]


def board_page(views: Any, within_path: str, as_of: datetime | None, tz: tzinfo, level: str | None = None,
               rule: str | None = None, limit: int = 500,
               cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the warnings standing at `as_of` (default now) in a subtree, sensitive periods
    applied, most severe first (as shown), newest first within a level; and the cursor of the
    next page, None at the end. A cursor carries the moment of its first page, so every page is
    of the same board."""
    after = _decode(cursor) if cursor else None
    if after is not None:
        if as_of is not None and stamp(as_of.astimezone(UTC)) != after[0]:
            raise InvalidField("cursor", "belongs to the board as of another moment; leave out as_of "
                                         "or start again without the cursor")
        as_of = datetime.fromisoformat(after[0])
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    periods = rules_at(views, as_of).periods_on(as_of.astimezone(tz).date())
    sql, params = _page_sql(bool(periods), within_path, stamp(as_of), level, rule, limit, after)
    rows = views.query(sql, params) if sql else []
    names = ", ".join(p.name for p in periods)
    page = [_shown(r, names) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = None if last is None else _encode(
        [stamp(as_of), last["shown_rank"], last["raised_at"], last["petition_id"], last["rule"],
         last["raised_version"]])
    return page, next_cursor


RANK = ("CASE w.level WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'yellow' THEN 2 WHEN 'blue' THEN 3"
        " ELSE 9 END")
BY_RANK = ("red", "orange", "yellow", "blue")
# Standing at `t`: never cleared (a partial index), or cleared after `t`; apart, each from its index.
STANDING = ("w.cleared_at IS NULL", "w.cleared_at > %(t)s")
# During a sensitive period an open case's warnings show one level up: those of cases ended by then
# do not (the key-person rows stand only while the case is open).
LIFTED = ("CASE WHEN EXISTS (SELECT 1 FROM {s}case_ended e WHERE e.petition_id = w.petition_id"
          " AND e.ended_at <= %(t)s) THEN 0 ELSE 1 END")


def _steered(where: list[str], standing: str) -> list[str]:
    """For the part "cleared after t", keep the planner off the raised_at index: `raised_at <= t`
    holds for nearly every row ever raised, so walking that index grows with history, while the
    rows cleared after t are few. `|| ''` (text either way) hides the column from the index."""
    if standing != STANDING[1]:
        return where
    return [c.replace("w.raised_at <= %(t)s", "w.raised_at || '' <= %(t)s") for c in where]


def _page_sql(period: bool, within_path: str, t: str, level: str | None, rule: str | None, limit: int,
              after: list[Any] | None) -> tuple[str, dict[str, Any]]:
    """The page's SELECT: the level as shown, the filters and the keyset all in SQL."""
    params: dict[str, Any] = {"within": below(within_path), "t": t, "limit": limit + 1}
    where = [within("w.unit_path", "within"), "w.raised_at <= %(t)s"]
    if level is not None:
        # Stored at the level shown, or (raised during a period) at the one below it.
        params["level"], params["below"] = level, LEVELS[max(LEVELS.index(level) - 1, 0)]
        where.append("w.level IN (%(level)s, %(below)s)" if period else "w.level = %(level)s")
    columns = ("w.petition_id, w.case_number, {rule} AS rule, w.level, w.detail, w.responsible_unit,"
               " w.responsible_person, w.raised_at, w.cleared_at, w.raised_version,"
               f" {RANK} AS stored_rank, {{lifted}} AS lifted")
    parts = []
    if rule != SENSITIVE:
        own = [*where, "w.rule = %(rule)s"] if rule is not None else where
        params["rule"] = rule
        parts += [f"SELECT {columns.format(rule='w.rule', lifted=LIFTED if period else '0')}"
                  f" FROM {{s}}warning_board w WHERE {' AND '.join((*_steered(own, standing), standing))}"
                  for standing in STANDING]
    if period and rule in (None, SENSITIVE):
        parts += [f"SELECT {columns.format(rule=repr(SENSITIVE), lifted='1')} FROM"
                  f" {{s}}key_person_board w WHERE {' AND '.join((*_steered(where, standing), standing))}"
                  for standing in STANDING]
    if not parts:
        return "", params
    outer = []
    if level is not None:
        outer.append("m.shown_rank = %(shown)s")
        params["shown"] = BY_RANK.index(level)
    if after is not None:
        outer.append("(m.shown_rank > %(a_rank)s OR (m.shown_rank = %(a_rank)s AND (m.raised_at,"
                     " m.petition_id, m.rule, m.raised_version) < (%(a_at)s, %(a_id)s, %(a_rule)s,"
                     " %(a_version)s)))")
        params.update(zip(("a_rank", "a_at", "a_id", "a_rule", "a_version"), after[1:], strict=True))
    return ("SELECT * FROM (SELECT u.*, CASE WHEN u.lifted = 1 AND u.stored_rank > 0 THEN"
            " u.stored_rank - 1 ELSE u.stored_rank END AS shown_rank FROM (" + " UNION ALL ".join(parts)
            + ") AS u) AS m" + (" WHERE " + " AND ".join(outer) if outer else "")
            + " ORDER BY m.shown_rank, m.raised_at DESC, m.petition_id DESC, m.rule DESC,"
            " m.raised_version DESC LIMIT %(limit)s", params)


def _shown(row: dict[str, Any], names: str) -> dict[str, Any]:
    """A row as the board shows it: the level as shown, and why it was raised."""
    shown = {k: row[k] for k in ("petition_id", "case_number", "rule", "level", "detail",
                                 "responsible_unit", "responsible_person", "raised_at", "cleared_at")}
    if int(row["shown_rank"]) < len(BY_RANK):
        shown["level"] = BY_RANK[int(row["shown_rank"])]
    if row["rule"] == SENSITIVE:
        shown["detail"] = f"{row['detail']}, during the sensitive period {names}"
    elif int(row["lifted"]):
        shown["detail"] = f"{row['detail']} (raised one level: sensitive period {names})"
    return shown


def _encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    """The moment and the last row's key a cursor holds, or an error naming the cursor."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        datetime.fromisoformat(key[0])
        valid = (len(key) == 6 and all(isinstance(key[i], str) for i in (0, 2, 3, 4))
                 and all(isinstance(key[i], int) and not isinstance(key[i], bool) for i in (1, 5)))
    except (ValueError, TypeError, IndexError, binascii.Error, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidField("cursor", "is not a cursor this board gave out")
    return list(key)
