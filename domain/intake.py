"""Checks on what reception types in at registration, before anything is recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.errors import InvalidField
from domain.validation import (
    validate_address,
    validate_id_number,
    validate_name,
    validate_phone,
)

CHANNELS = ("letter", "visit", "phone", "online", "email")
MAX_REPRESENTATIVES = 5
GROUP_HEADCOUNT = 5


def text(value: object, field: str, *, max_length: int, required: bool = True) -> str:
    """A stripped string of at most `max_length` characters; blank only when not required."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidField(field, "must be text")
    stripped = value.strip()
    if required and not stripped:
        raise InvalidField(field, "must not be blank")
    if len(stripped) > max_length:
        raise InvalidField(field, f"is too long ({len(stripped)} characters; at most {max_length})")
    return stripped


# Offices record what happened on paper too, but not before the 1995 regulations' predecessors;
# the bounds also keep date arithmetic (windows of days before and after) far from overflow.
FIRST_YEAR, LAST_YEAR = 1990, 2100


def aware(moment: object, field: str) -> datetime:
    """A timezone-aware datetime, or an error naming the field."""
    if not isinstance(moment, datetime):
        raise InvalidField(field, "must be a date and time such as 2026-09-16T10:00:00+08:00")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidField(field, "must include a time zone offset, e.g. +08:00")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InvalidField(field, f"must lie between the years {FIRST_YEAR} and {LAST_YEAR}")
    return moment


def channel(value: object) -> str:
    """One of the five channels (信访形式)."""
    if value not in CHANNELS:
        raise InvalidField("channel", f"must be one of {', '.join(CHANNELS)}")
    return str(value)


def petitioners(values: Sequence[Mapping[str, Any]], headcount: int) -> list[dict[str, Any]]:
    """Validated petitioners: a name each; ID number, phone and address checked when given."""
    if not isinstance(headcount, int) or isinstance(headcount, bool) or headcount < 1:
        raise InvalidField("headcount", "must be a whole number of at least 1")
    if not values:
        raise InvalidField("petitioners", "at least one petitioner must be recorded")
    if len(values) > MAX_REPRESENTATIVES:
        raise InvalidField(
            "petitioners",
            f"at most {MAX_REPRESENTATIVES} representatives are recorded for a group "
            f"({len(values)} given)",
        )
    if len(values) > headcount:
        raise InvalidField(
            "headcount", f"is {headcount} but {len(values)} petitioners are recorded"
        )
    cleaned = []
    for i, person in enumerate(values):
        where = f"petitioners[{i}]"
        if not isinstance(person, Mapping):
            raise InvalidField(where, "must be an object with a name")
        unknown = set(person) - {"name", "id_number", "phone", "address"}
        if unknown:
            raise InvalidField(where, f"unknown field(s): {', '.join(sorted(unknown))}")
        entry: dict[str, Any] = {"name": validate_name(person.get("name") or "", f"{where}.name")}
        for key, check in (
            ("id_number", validate_id_number),
            ("phone", validate_phone),
            ("address", validate_address),
        ):
            value = person.get(key)
            if value is not None and not isinstance(value, str):
                raise InvalidField(f"{where}.{key}", "must be text")
            entry[key] = check(value, f"{where}.{key}") if value and value.strip() else None
        cleaned.append(entry)
    return cleaned
