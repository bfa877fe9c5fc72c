"""How our own value types are written into stored events and snapshots."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.deadlines import Deadline


class DateAsISO(Transcoding):
    """A date as 'YYYY-MM-DD'."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        """Write the date."""
        return obj.isoformat()

    def decode(self, data: str) -> date:
        """Read the date."""
        return date.fromisoformat(data)


class DeadlineAsDict(Transcoding):
    """A deadline as a plain mapping (dates as ISO strings)."""

    type = Deadline
    name = "deadline"

    def encode(self, obj: Deadline) -> dict[str, Any]:
        """Write the deadline."""
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Deadline:
        """Read the deadline."""
        return Deadline.from_dict(data)
