"""Plain renderings of a case's stored events, for history views and dossiers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.deadlines import Deadline

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "at", "actor"}


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a case: what happened, when (business and record time), who, and the data."""

    version: int
    type: str
    at: datetime | None
    recorded_at: datetime
    actor: str | None
    data: dict[str, Any]


def plain(value: Any) -> Any:
    """A JSON-friendly copy of an event value."""
    if isinstance(value, Deadline):
        return value.to_dict()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def history_entry(event: Any) -> HistoryEntry:
    """Render one stored event of a petition."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    return HistoryEntry(
        version=event.originator_version,
        type=type(event).__name__,
        at=fields.get("at"),
        recorded_at=event.timestamp,
        actor=fields.get("actor"),
        data={k: plain(v) for k, v in fields.items() if k not in _ENVELOPE},
    )
