"""The board's remaining rules (repeat, after final, skip-level, hotspot, sensitive period) and the
admin's settings, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.directory import DirectoryService
from domain.rules import SensitivePeriod, WarningRules
from domain.service import PetitionService
from domain.validation import make_id_number
from projections.board_read import warnings_at
from projections.runner import EmbeddedProjector, SQLiteCaseList, build_views, case_list_projection
from tests.integration.test_case_list import views_env
from tests.support import STEPS, FakeClock, Office

MakeService = Callable[..., PetitionService]
TZ = ZoneInfo("Asia/Shanghai")
KEY = b"a test key for the person hash."


def person(i: int) -> list[dict[str, Any]]:
    """One petitioner with an ID number of their own."""
    return [{"name": f"信访人{i}", "id_number": make_id_number(f"11010519491231{i:03d}")}]


def tree() -> DirectoryService:
    """county → town1 (→ town1.v1 → town1.v1.g1, town1.v2), town2 (in memory)."""
    directory = DirectoryService({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    for code, level, parent in [("county", "county", None), ("town1", "township", "county"),
                                ("town2", "township", "county"), ("town1.v1", "village", "town1"),
                                ("town1.v2", "village", "town1"), ("town1.v1.g1", "group", "town1.v1")]:
        directory.create_unit(code=code, name=code, level=level, parent=parent, actor="t")
    return directory


class Board:
    """An office, its projector, and the board as read."""

    def __init__(self, make_service: MakeService, tmp_path: Path) -> None:
        self.clock = FakeClock()
        self.service = make_service(self.clock)
        self.office = Office(self.service, self.clock)
        self.directory = tree()
        self.env = views_env(self.service, tmp_path)
        self.projector = self.projector_on_the_same_views()

    def projector_on_the_same_views(self) -> EmbeddedProjector:
        """A projector as a freshly started process would build it."""
        projection = case_list_projection(build_views(self.env), self.service, self.directory, KEY)
        return EmbeddedProjector(self.service, projection)

    def register(self, who: int, **fields: Any) -> UUID:
        """A petition by petitioner `who`, received now."""
        fields.setdefault("location_unit", "town2")
        fields.setdefault("receiving_unit", "town2")
        return self.office.register(petitioners=person(who), **fields)

    def read(self, as_of: datetime | None = None, **filters: Any) -> list[dict[str, Any]]:
        """The whole board as of a moment (default now), after catching up."""
        self.projector.catch_up()
        return warnings_at(self.projector.projection.view, "/county/", as_of or datetime.now(UTC), TZ,
                           **filters)

    def of(self, pid: UUID, rule: str, as_of: datetime | None = None) -> list[dict[str, Any]]:
        """The case's warnings of one rule."""
        return [w for w in self.read(as_of, rule=rule) if w["petition_id"] == str(pid)]

    def number(self, pid: UUID) -> str:
        """The case number."""
        return self.service.get(pid).case_number


def test_a_petitioner_again_within_the_window_is_a_repeat_kept_by_hash_only(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """A second petition by the same ID number within 30 days is flagged naming the first; a
    stranger or a petition beyond the window is not; the views never hold the number; ending clears it."""
    b = Board(make_service, tmp_path)
    first = b.register(1)
    b.clock.advance(days=10)
    again = b.register(1)
    stranger = b.register(2)
    b.clock.advance(days=40)
    late = b.register(1)
    [repeat] = b.of(again, "repeat")
    assert repeat["level"] == "yellow" and b.number(first) in repeat["detail"]
    assert (repeat["responsible_unit"], repeat["responsible_person"]) == ("town2", "reception1")
    assert b.of(stranger, "repeat") == [] and b.of(late, "repeat") == [] and b.of(first, "repeat") == []
    view = b.projector.projection.view
    id_number = person(1)[0]["id_number"]
    for table in SQLiteCaseList.tables:
        for row in view.query(f"SELECT * FROM {{s}}{table}"):
            assert id_number not in str(row) and id_number.lower() not in str(row), table
    assert len(view.query("SELECT person FROM {s}petitioner_index")) == 4
    before_decline = datetime.now(UTC)
    b.office.do("decline", again, actor="reception1", reason="重复信访")
    assert b.of(again, "repeat") == [] and len(b.of(again, "repeat", before_decline)) == 1


def test_the_same_matter_again_is_a_repeat_and_after_a_final_one_stands_its_window(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """same_matter_as names the earlier case; on a final matter the new one (declined at once) is
    flagged orange for after_final_days, not longer."""
    b = Board(make_service, tmp_path)
    earlier = b.register(1)
    matter = b.register(2, same_matter_as=earlier)
    [repeat] = b.of(matter, "repeat")
    assert repeat["detail"] == f"same matter as {b.number(earlier)}"
    assert b.of(matter, "after_final") == []
    final = b.office.case_in("final")
    again = b.register(3, same_matter_as=final)
    assert b.service.get(again).status == "declined"
    now = datetime.now(UTC)
    [after] = b.of(again, "after_final")
    assert after["level"] == "orange" and b.number(final) in after["detail"]
    assert b.of(again, "after_final", now + timedelta(days=29)) != []
    assert b.of(again, "after_final", now + timedelta(days=31)) == []
    assert b.of(again, "repeat") == []  # declined at once: the repeat warning ended with the case


def test_a_visit_received_two_levels_above_its_unit_is_skip_level_until_the_case_ends(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """A village matter visited at the county is skip-level (越级访); at its township, or a township
    matter at the county, it is not; a villager group's matter is its village's (the group is no
    organ), so at the township it is not skip-level and at the county it is; a letter to the
    county never is."""
    b = Board(make_service, tmp_path)
    skipped = b.register(1, receiving_unit="county", location_unit="town1.v1")
    group_at_township = b.register(2, receiving_unit="town1", location_unit="town1.v1.g1")
    township = b.register(3, receiving_unit="town1", location_unit="town1.v1")
    county = b.register(4, receiving_unit="county", location_unit="town1")
    group_at_county = b.register(5, receiving_unit="county", location_unit="town1.v1.g1")
    letter = b.register(6, receiving_unit="county", location_unit="town1.v1", channel="letter")
    [warning] = b.of(skipped, "skip_level")
    assert warning["level"] == "orange" and "town1.v1" in warning["detail"]
    assert warning["responsible_unit"] == "county"
    assert len(b.of(group_at_county, "skip_level")) == 1
    assert b.of(group_at_township, "skip_level") == [] and b.of(township, "skip_level") == []
    assert b.of(county, "skip_level") == [] and b.of(letter, "skip_level") == []
    b.office.do("decline", skipped, actor="reception1", reason="不属受理范围")
    assert b.of(skipped, "skip_level") == []


def test_three_petitions_of_one_category_in_a_village_within_a_week_are_one_hotspot(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """The third petition raises one warning naming the three; a fourth extends it; it ends
    hotspot_days after the latest; petitions further apart raise none."""
    b = Board(make_service, tmp_path)
    noise = [b.register(i, location_unit="town1.v1", category="noise") for i in (1, 2)]
    b.clock.advance(days=3)
    noise.append(b.register(3, location_unit="town1.v1", category="noise"))
    [hotspot] = b.read(rule="hotspot")
    assert hotspot["level"] == "orange" and hotspot["petition_id"] == str(noise[-1])
    assert all(b.number(p) in hotspot["detail"] for p in noise) and "town1.v1" in hotspot["detail"]
    b.clock.advance(days=2)
    recorded = datetime.now(UTC)
    fourth = b.register(4, location_unit="town1.v1", category="noise")
    [extended] = b.read(rule="hotspot")
    assert b.number(fourth) in extended["detail"]
    until = datetime.fromisoformat(extended["cleared_at"])
    assert recorded + timedelta(days=7) < until < datetime.now(UTC) + timedelta(days=7)
    assert b.read(until - timedelta(minutes=1), rule="hotspot") != []
    assert b.read(until + timedelta(minutes=1), rule="hotspot") == []
    for _ in range(3):
        b.clock.advance(days=8)
        b.register(5, location_unit="town1.v1", category="roads")
    assert [w["detail"] for w in b.read(rule="hotspot")] == [extended["detail"]]


def test_petitions_spread_over_a_townships_villages_make_a_township_hotspot(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Two villages of one township with three petitions of a category between them: the township's."""
    b = Board(make_service, tmp_path)
    b.register(1, location_unit="town1.v1", category="water")
    b.register(2, location_unit="town1.v2", category="water")
    b.register(3, location_unit="town2", category="water")
    assert b.read(rule="hotspot") == []
    last = b.register(4, location_unit="town1.v2", category="water")
    [township] = b.read(rule="hotspot")
    assert township["petition_id"] == str(last) and " in town1 within 7 days" in township["detail"]
    assert b.read(rule="hotspot") == warnings_at(b.projector.projection.view, "/county/town1/",
                                                 datetime.now(UTC), TZ, rule="hotspot")


def test_a_rules_change_applies_from_when_it_was_recorded_and_survives_a_restart(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Lower group and repeat thresholds: the board as of before the change shows the old rules,
    after it the new; a projector started afresh goes on with the new settings."""
    b = Board(make_service, tmp_path)
    four = b.register(1, headcount=4)
    b.register(2)
    b.clock.advance(days=10)
    assert b.of(four, "group") == []
    before = datetime.now(UTC)
    b.service.set_warning_rules(WarningRules(group_orange=3, group_red=4, repeat_days=5), actor="admin")
    b.projector = b.projector_on_the_same_views()
    [group] = b.of(four, "group")
    assert group["level"] == "red" and b.of(four, "group", before) == []
    beyond = b.register(2)  # ten days after the first: beyond the new five-day window
    b.clock.advance(days=4)
    within = b.register(2)
    assert b.of(beyond, "repeat") == []
    [repeat] = b.of(within, "repeat")
    assert "within 5 days" in repeat["detail"] and b.number(beyond) in repeat["detail"]
    b.service.set_warning_rules(WarningRules(), actor="admin")
    assert b.of(four, "group") == [] and b.of(four, "group", before) == []
    b.service.set_warning_rules(WarningRules(group_orange=3, group_red=4), actor="admin")
    assert [w["level"] for w in b.of(four, "group")] == ["red"]  # raised again, the case unchanged


def test_during_a_sensitive_period_open_cases_warnings_go_up_a_level_and_key_persons_show(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Read during a configured period: open cases' warnings one level up (red stays red), ended
    ones unchanged, a key person's open case shown; read as of before the setting: as before."""
    b = Board(make_service, tmp_path)
    skipped = b.register(1, receiving_unit="county", location_unit="town1.v1", urgent=True)
    key = b.register(2, key_person=True)
    final = b.office.case_in("final")
    declined = b.register(3, same_matter_as=final)
    base = {(w["petition_id"], w["rule"]): w["level"] for w in b.read()}
    assert base[(str(skipped), "skip_level")] == "orange" and base[(str(skipped), "urgent")] == "red"
    assert base[(str(declined), "after_final")] == "orange"
    assert not any(rule == "sensitive_period" for _, rule in base)
    before = datetime.now(UTC)
    today = before.astimezone(TZ).date()
    period = SensitivePeriod("两会", today - timedelta(days=1), today + timedelta(days=1))
    b.service.set_warning_rules(WarningRules(sensitive_periods=(period,)), actor="admin")
    now = {(w["petition_id"], w["rule"]): w for w in b.read()}
    assert now[(str(skipped), "skip_level")]["level"] == "red"
    assert "两会" in now[(str(skipped), "skip_level")]["detail"]
    assert now[(str(skipped), "urgent")]["level"] == "red"
    assert now[(str(declined), "after_final")]["level"] == "orange"  # the case has ended
    assert now[(str(key), "sensitive_period")]["level"] == "yellow"
    assert [w["petition_id"] for w in b.read(rule="sensitive_period")] == [str(key)]
    assert {w["rule"] for w in b.read(level="red") if w["petition_id"] == str(skipped)} == {
        "skip_level", "urgent"}
    assert {(w["petition_id"], w["rule"]): w["level"] for w in b.read(before)} == base
    after_period = datetime.combine(today + timedelta(days=2), datetime.min.time(), TZ)
    assert b.read(after_period, rule="sensitive_period") == []
    b.office.do("decline", key, actor="reception1", reason="已处理")
    assert b.read(rule="sensitive_period") == []


def test_a_batched_rebuild_gives_the_rows_one_by_one_projection_gave(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Rules reading earlier rows of the same transaction decide alike in a 1000-event batch."""
    b = Board(make_service, tmp_path)
    for i in range(4):
        b.register(i % 2, location_unit="town1.v1", category="noise", headcount=4)
        b.projector.catch_up()
        b.clock.advance(days=1)
    b.service.set_warning_rules(WarningRules(group_orange=4, hotspot_count=2), actor="admin")
    b.projector.catch_up()
    for i in range(3):
        b.register(i, location_unit="town1.v2", category="water")
        b.projector.catch_up()
    b.office.do("decline", b.register(9, receiving_unit="county", location_unit="town1.v1"),
                actor="reception1", reason="x")
    view = b.projector.projection.view
    tables = ("warning_board", "hotspots", "petitioner_index", "case_ended", "key_person_board",
              "board_settings")

    def everything() -> dict[str, list[dict[str, Any]]]:
        b.projector.catch_up()
        return {t: sorted((dict(r) for r in view.query(f"SELECT * FROM {{s}}{t}")), key=str) for t in tables}

    one_by_one = everything()
    assert len(one_by_one["hotspots"]) == 2 and len(one_by_one["board_settings"]) == 1
    b.projector.rebuild(batch=1000, bulk=False)
    assert everything() == one_by_one


def test_group_and_dissatisfied_warnings_end_with_the_case(make_service: MakeService, store: str,
                                                           tmp_path: Path) -> None:
    """A group petition declined, and a matter taken through review to final: both warnings were
    raised and are cleared when the case ended (an ended case calls for no action on them)."""
    b = Board(make_service, tmp_path)
    group = b.register(1, headcount=8)
    assert len(b.of(group, "group")) == 1
    b.office.do("decline", group, actor="reception1", reason="不属于信访事项")
    assert b.of(group, "group") == []
    settled = b.office.case_in("review_requested")
    assert len(b.of(settled, "dissatisfied")) == 1
    for step in ("review_decided", "served_after_review", "rereview_requested", "final"):
        command, kwargs = STEPS[step]
        b.office.do(command, settled, **kwargs)
    assert b.office.service.get(settled).status == "final"
    assert b.of(settled, "dissatisfied") == []
