"""Unique human-readable case numbers (XF-2026-000123), kept unique by an index aggregate."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid5(NAMESPACE_URL, "petitions:case-number")


def format_case_number(prefix: str, year: int, serial: int) -> str:
    """The printed form: prefix, year of receipt, six-digit serial."""
    return f"{prefix}-{year}-{serial:06d}"


class CaseNumber(Aggregate):
    """One case number taken by one petition; its id is derived from the number itself."""

    @event("Taken")
    def __init__(self, number: str, petition_id: UUID) -> None:
        self.number = number
        self.petition_id = petition_id

    @staticmethod
    def create_id(number: str) -> UUID:
        """The index id of a case number."""
        return uuid5(NAMESPACE, number.upper())
