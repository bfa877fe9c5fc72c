"""What a rebuild's worker sends (each new petition, rows) comes back exactly as it was."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from projections.board_rules import Arrival
from projections.bulk_workers import decoded, encoded, packed, unpacked
from projections.store import stamp

SHANGHAI = timezone(timedelta(hours=8))


def arrival(received_at: datetime) -> Arrival:
    return Arrival("0b7c9a4e-1d2f-4c3b-9a8e-7f6d5c4b3a21", "XF-2026-000042", "t03", "clerk",
                   1, ("a1b2", "c3d4"), None, None, received_at, date(2026, 3, 2), "t03.v09",
                   "environment")


def test_an_arrival_comes_back_equal_with_its_time_zones_and_stamps() -> None:
    # Decoded moments: an offset of their own, and a whole second (no microseconds written).
    at = datetime.fromisoformat("2026-03-02T01:02:03.000456+00:00")
    new = arrival(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))

    position, at_again, new_again = unpacked(decoded(encoded(packed(17, at, new))))

    assert (position, at_again, new_again) == (17, at, new)
    assert new_again.received_at.utcoffset() == timedelta(hours=8)
    assert stamp(at_again) == stamp(at) and stamp(new_again.received_at) == stamp(new.received_at)
    assert type(new_again.day) is date and new_again.day == date(2026, 3, 2)


def test_an_arrival_goes_as_plain_values() -> None:
    sent = packed(3, datetime(2026, 1, 5, 7, 30, tzinfo=SHANGHAI),
                  arrival(datetime(2026, 1, 5, 7, 0, tzinfo=SHANGHAI)))

    assert all(isinstance(v, (str, int, tuple, type(None))) for v in sent)
    assert sent[1] == "2026-01-05T07:30:00+08:00"


def test_rows_come_back_equal_with_their_types() -> None:
    """Tuples stay tuples and lists lists (the loaders take rows as tuples); text, numbers, None."""
    rows = [("a", 1, None, 2.5, True, "理由"), ("b", -3, "x" * 5000, 0.0, False, "")]
    message = ("rows", "case_list", rows)
    again = decoded(encoded(message))
    assert again == message
    assert type(again) is tuple and type(again[2]) is list and all(type(r) is tuple for r in again[2])


def test_a_value_that_is_not_plain_is_refused_when_sent() -> None:
    """A row holding anything but plain values fails in the worker, which then reports it, rather
    than reaching the rebuilding process changed."""
    with pytest.raises(ValueError):
        encoded(("rows", "case_list", [(date(2026, 1, 5),)]))
