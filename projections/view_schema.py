"""Upgrading views: when the definition of a view's tables changes, they are dropped and rebuilt.

A view store records a fingerprint of its DDL (and of a version number bumped by hand when a
projection's meaning changes with the same tables). On start, a different or missing fingerprint
means the tables may not match the code: they are dropped, the tracking position forgotten, and
the tables created afresh, so the projector rebuilds them from the event store. Without this an
upgraded server would fail on the old tables' columns, and a rebuild (which only empties rows)
could not repair them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import structlog

TABLE = "view_schema"
log = structlog.get_logger("projections")


def fingerprint(ddl: Sequence[str], version: int) -> str:
    """What the view's tables are, as a short digest."""
    return hashlib.sha256(f"{version}\n".encode() + "\n".join(ddl).encode()).hexdigest()[:32]


def drop_if_changed(cursor: Any, *, name: str, wanted: str, tables: Sequence[str],
                    tracking_table: str, prefix: str = "", param: str = "?") -> bool:
    """In the caller's transaction: drop the view's tables and forget its position when their
    recorded fingerprint is not `wanted`. Returns whether it dropped them."""
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {prefix}{TABLE}"
                   " (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)")
    cursor.execute(f"SELECT fingerprint FROM {prefix}{TABLE} WHERE name = {param}", (name,))
    row = cursor.fetchone()
    found = None if row is None else (row["fingerprint"] if hasattr(row, "keys") else row[0])
    if found == wanted:
        return False
    for table in tables:
        cursor.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
    cursor.execute(f"DROP TABLE IF EXISTS {prefix}{tracking_table}")
    if found is not None:
        log.warning("views_rebuilding", view=name, reason="the views' tables changed with an upgrade")
    return True


def record(cursor: Any, *, name: str, wanted: str, prefix: str = "", param: str = "?") -> None:
    """In the caller's transaction: note that the tables now match `wanted`."""
    cursor.execute(f"DELETE FROM {prefix}{TABLE} WHERE name = {param}", (name,))
    cursor.execute(f"INSERT INTO {prefix}{TABLE} VALUES ({param}, {param})", (name, wanted))
