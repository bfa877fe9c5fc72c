"""The case list as read: filtered, keyset-paginated pages of the rows the projection keeps."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import InvalidField
from projections.store import Views
from projections.subtree import below, within


@dataclass(frozen=True)
class ListQuery:
    """Filters of the list route."""

    within_path: str
    status: str | None = None
    unit_path: str | None = None
    category: str | None = None
    channel: str | None = None
    overdue: bool | None = None
    received_from: date | None = None
    received_to: date | None = None
    q: str | None = None
    limit: int = 50
    cursor: str | None = None


def encode_cursor(received_at: str, pid: str) -> str:
    """An opaque cursor after this row."""
    return base64.urlsafe_b64encode(f"{received_at}|{pid}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The row a cursor points after, or an error naming the cursor."""
    try:
        received_at, pid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidField("cursor", "is not a cursor this list gave out") from None
    return received_at, pid


def list_cases(views: Views, query: ListQuery, today: date) -> tuple[list[dict[str, Any]], str | None]:
    """A page of rows, newest first, and the cursor of the next page (None at the end)."""
    where = [f"({within('responsible_path', 'within')} OR {within('location_path', 'within')})"]
    params: dict[str, Any] = {"within": below(query.within_path), "limit": query.limit + 1,
                              "today": today.isoformat()}
    for field in ("status", "category", "channel"):
        if getattr(query, field) is not None:
            where.append(f"{field} = %({field})s")
            params[field] = getattr(query, field)
    if query.unit_path is not None:
        where.append(f"({within('responsible_path', 'unit')} OR {within('location_path', 'unit')})")
        params["unit"] = below(query.unit_path)
    if query.overdue is not None:
        overdue = "(has_missed = 1 OR next_due < %(today)s)"
        where.append(overdue if query.overdue else f"NOT {overdue}")
    if query.received_from is not None:
        where.append("received_on >= %(from)s")
        params["from"] = query.received_from.isoformat()
    if query.received_to is not None:
        where.append("received_on <= %(to)s")
        params["to"] = query.received_to.isoformat()
    if query.q:
        where.append("(summary LIKE %(q)s OR content LIKE %(q)s)")
        params["q"] = "%" + query.q.replace("%", "").replace("_", "") + "%"
    if query.cursor:
        params["after_at"], params["after_id"] = decode_cursor(query.cursor)
        where.append("(received_at < %(after_at)s OR (received_at = %(after_at)s AND id < %(after_id)s))")
    rows = views.query(
        "SELECT id, case_number, status, channel, category, summary, receiving_unit, location_unit,"
        " responsible_unit, responsible_person, received_at, next_due, has_missed, urgent, headcount,"
        f" version FROM {{s}}case_list WHERE {' AND '.join(where)}"
        " ORDER BY received_at DESC, id DESC LIMIT %(limit)s", params)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = encode_cursor(rows[-1]["received_at"], rows[-1]["id"]) if more else None
    return rows, cursor
