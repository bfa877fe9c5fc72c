"""The hotspot rule (热点): its areas, its windows, and its history as the board shows it as of a
past moment, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import eventsourcing.domain
import pytest

from tests.integration.test_board_rules import Board, MakeService


def test_a_groups_petitions_make_a_hotspot_of_their_village_and_a_countys_make_none(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Three petitions located in a villager group cluster under its village (not the group);
    three located at the county itself are in no village or township: no hotspot."""
    b = Board(make_service, tmp_path)
    for i in range(3):
        b.register(i, location_unit="town1.v1.g1", category="noise")
    [village] = b.read(rule="hotspot")
    assert " in town1.v1 within 7 days" in village["detail"]
    for i in range(3):
        b.register(i, location_unit="county", receiving_unit="county", category="roads")
    assert [w["detail"] for w in b.read(rule="hotspot")] == [village["detail"]]


@pytest.fixture
def recorded_by_the_office_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[Board], None]:
    """Events recorded at the test's clock (the library's one source of record times), so a test
    can let days pass between records."""
    def follow(b: Board) -> None:
        monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo",
                            lambda: b.clock.now.astimezone(UTC))
    return follow


def test_the_board_as_of_a_moment_between_joins_names_exactly_the_petitions_joined_by_then(
        make_service: MakeService, store: str, tmp_path: Path,
        recorded_by_the_office_clock: Callable[[Board], None]) -> None:
    """Raised by the third petition, joined by a fourth and a fifth: as of a moment after each,
    the one hotspot names the petitions joined by then, and ends hotspot_days after the last."""
    b = Board(make_service, tmp_path)
    recorded_by_the_office_clock(b)
    cases, moments = [], []
    for i in range(5):
        b.clock.advance(hours=5)
        cases.append(b.register(i, location_unit="town1.v1", category="noise"))
        moments.append(b.clock.now + timedelta(minutes=1))
    numbers = [b.number(p) for p in cases]
    assert b.read(moments[1], rule="hotspot") == []
    for joined in (3, 4, 5):
        [hotspot] = b.read(moments[joined - 1], rule="hotspot")
        assert hotspot["petition_id"] == str(cases[2])
        assert hotspot["detail"].startswith(f"{joined} petitions on noise in town1.v1 within 7 days: ")
        assert [n for n in numbers if n in hotspot["detail"]] == numbers[:joined]
    [last] = b.read(rule="hotspot", as_of=moments[-1])
    ends = datetime.fromisoformat(last["cleared_at"])
    assert ends == datetime.fromisoformat(last["raised_at"]) + timedelta(days=7)
    assert b.read(ends - timedelta(minutes=1), rule="hotspot") == [last]
    assert b.read(ends, rule="hotspot") == []


def test_a_petition_registered_after_a_hotspot_ended_does_not_reopen_it(
        make_service: MakeService, store: str, tmp_path: Path,
        recorded_by_the_office_clock: Callable[[Board], None]) -> None:
    """Eight days after a hotspot was raised (it ended after seven), a letter received on its first
    day is registered: the ended hotspot keeps its end, and a new one is raised from then on."""
    b = Board(make_service, tmp_path)
    recorded_by_the_office_clock(b)
    first_day = b.clock.now
    for i in range(3):
        b.register(i, location_unit="town1.v1", category="noise")
    [ended] = b.read(b.clock.now, rule="hotspot")
    b.clock.advance(days=8)
    late = b.register(3, location_unit="town1.v1", category="noise", received_at=first_day)
    assert b.read(b.clock.now - timedelta(days=1), rule="hotspot") == []
    assert [w["cleared_at"] for w in b.read(first_day, rule="hotspot")] == [ended["cleared_at"]]
    [again] = b.read(b.clock.now, rule="hotspot")
    assert again["petition_id"] == str(late) and again["raised_at"] > ended["cleared_at"]
    assert again["detail"].startswith("4 petitions on noise")


def test_a_letter_received_first_but_registered_last_completes_a_hotspot(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Petitions received on days 5 and 6, then a letter received on day 1: the three lie within
    seven days, so the letter raises the hotspot naming all three. In another category, a letter
    received on day -2 (eight days before the last) raises none."""
    b = Board(make_service, tmp_path)
    day1 = b.clock.now
    b.clock.advance(days=5)
    later: list[UUID] = []
    for i, d in ((1, 4), (2, 5)):
        for category in ("noise", "water"):
            pid = b.register(i, location_unit="town1.v1", category=category,
                             received_at=day1 + timedelta(days=d))
            later += [pid] if category == "noise" else []
    b.register(3, location_unit="town1.v1", category="water", received_at=day1 - timedelta(days=2))
    assert b.read(rule="hotspot") == []
    letter = b.register(4, location_unit="town1.v1", category="noise", received_at=day1)
    [hotspot] = b.read(rule="hotspot")
    assert hotspot["petition_id"] == str(letter)
    assert all(b.number(p) in hotspot["detail"] for p in (*later, letter))
    assert hotspot["detail"].startswith("3 petitions on noise in town1.v1")
