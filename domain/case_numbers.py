"""Unique human-readable case numbers (XF-2026-000123).

A petition's id is derived from its case number, so the event store's own uniqueness rule
(one version 1 per id) keeps numbers unique, even across processes, without a second write.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "petitions:case-number")


def format_case_number(prefix: str, year: int, serial: int) -> str:
    """The printed form: prefix, year of receipt, six-digit serial."""
    return f"{prefix}-{year}-{serial:06d}"


def case_id(number: str) -> UUID:
    """The id of the petition that holds a case number."""
    return uuid5(NAMESPACE, number.strip().upper())
