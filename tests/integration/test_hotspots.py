"""The hotspot rule (热点): its areas, its windows, and its history as the board shows it as of a
past moment, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

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
