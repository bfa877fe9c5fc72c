"""A unit's subtree is matched by its path with LIKE's `_` taken literally: t_1 never takes in its
sibling t11, in the list, the board, the summaries, the responsibility view and the hotspot rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.directory import DirectoryService
from domain.service import PetitionService
from domain.validation import make_id_number
from projections.board_read import warnings_at
from projections.case_list import unit_paths
from projections.case_list_read import ListQuery, list_cases
from projections.responsibility import responsibility
from projections.statistics import Period, summary
from projections.subtree import below
from tests.integration.test_case_list import projector_on
from tests.support import FakeClock, Office

MakeService = Callable[..., PetitionService]


def siblings() -> DirectoryService:
    """county → t_1 → t_1.v, and county → t11 → t11.v (codes a bare LIKE confuses)."""
    directory = DirectoryService({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    for code, level, parent in [("county", "county", None), ("t_1", "township", "county"),
                                ("t11", "township", "county"), ("t_1.v", "village", "t_1"),
                                ("t11.v", "village", "t11")]:
        directory.create_unit(code=code, name=code, level=level, parent=parent, actor="t")
    return directory


def test_the_pattern_escapes_likes_metacharacters() -> None:
    """`_` and `%` in a path, and the escape character itself, are matched literally."""
    assert below("/county/t_1/") == "/county/t\\_1/%"
    assert below("/a%b\\c/") == "/a\\%b\\\\c/%"


def test_a_sibling_whose_code_matches_the_underscore_is_outside_the_subtree(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Cases of t11 (a group petition, three of one category) show nowhere in t_1's reads, and with
    one case of t_1 make no hotspot there; t11's own reads still find them."""
    clock = FakeClock()
    service = make_service(clock)
    office = Office(service, clock)
    directory = siblings()
    projector = projector_on(service, tmp_path, directory)
    views = projector.projection.view
    path = unit_paths(directory.ancestors)
    for i in range(2):
        office.register(receiving_unit="t11", location_unit="t11.v", category="noise", headcount=6,
                        petitioners=[{"name": "甲", "id_number": make_id_number(f"1101051949123100{i}")}])
    office.register(receiving_unit="t_1", location_unit="t_1.v", category="noise",
                    petitioners=[{"name": "乙", "id_number": make_id_number("11010519491231009")}])
    projector.catch_up()
    today, now, tz = date(2026, 9, 1), datetime.now(UTC), ZoneInfo("Asia/Shanghai")
    mine, _ = list_cases(views, ListQuery(within_path=path("t_1")), today)
    assert [r["location_unit"] for r in mine] == ["t_1.v"]
    assert len(list_cases(views, ListQuery(within_path=path("t11")), today)[0]) == 2
    assert len(list_cases(views, ListQuery(within_path="/county/", unit_path=path("t_1")), today)[0]) == 1
    assert warnings_at(views, path("t_1"), now, tz) == []
    assert {w["rule"] for w in warnings_at(views, path("t11"), now, tz)} == {"group"}
    assert summary(views, path("t_1"), Period.parse("2026-Q3"), tz, "t_1")["received"] == 1
    assert summary(views, path("t11"), Period.parse("2026-Q3"), tz, "t11")["received"] == 2
    held = responsibility(views, path("t_1"), date(2026, 9, 1), date(2026, 9, 30))
    assert {u["unit"] for u in held["units"]} == {"t_1"}
    assert {u["unit"] for u in responsibility(views, path("t11"), today, today)["units"]} == {"t11"}
    assert warnings_at(views, "/county/", now, tz, rule="hotspot") == []
