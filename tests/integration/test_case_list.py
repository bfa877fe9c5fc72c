"""The case list view, kept by its projection, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.directory import DirectoryService
from domain.service import PetitionService
from projections.case_list_read import ListQuery, list_cases
from projections.runner import EmbeddedProjector, build_views, case_list_projection, subscribe
from tests.support import FakeClock, Office

MakeService = Callable[..., PetitionService]


def directory_with_tree() -> DirectoryService:
    """county → town1, town2 (in memory: only ancestors are needed)."""
    directory = DirectoryService({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    directory.create_unit(code="county", name="县", level="county", parent=None, actor="t")
    for town in ("town1", "town2"):
        directory.create_unit(code=town, name=town, level="township", parent="county", actor="t")
    return directory


def accepted_case(office: Office) -> UUID:
    """A case in town1, assigned and accepted."""
    pid = office.register(location_unit="town1")
    office.do("assign", pid, actor="reception1", unit="town1", person="handler1", mode="assign")
    office.do("accept", pid)
    return pid


def views_env(service: PetitionService, tmp_path: Path) -> dict[str, str]:
    """The library environment of the views: the events' database, or a views file beside them."""
    env = {k: v for k, v in service.env.items() if not k.startswith("PETITIONSERVICE_")}
    if "sqlite" in env["PERSISTENCE_MODULE"]:
        env["SQLITE_DBNAME"] = str(tmp_path / "views.sqlite3")
    return env


def projector_on(service: PetitionService, tmp_path: Path, directory: DirectoryService) -> EmbeddedProjector:
    """An embedded projector of a fresh view store beside the service's events."""
    views = build_views(views_env(service, tmp_path))
    return EmbeddedProjector(service, case_list_projection(views, service, directory))


def test_the_list_follows_the_cases_and_filters_and_pages(make_service: MakeService, store: str,
                                                          tmp_path: Path) -> None:
    """Rows follow each case's status; filters and keyset pages return exactly the matching cases."""
    clock = FakeClock()
    service = make_service(clock)
    office = Office(service, clock)
    projector = projector_on(service, tmp_path, directory_with_tree())
    views = projector.projection.view
    town1 = [accepted_case(office) for _ in range(3)]
    town2 = [office.register(location_unit="town2", summary="道路噪声") for _ in range(4)]
    office.do("decline", town2[0], reason="不属于信访事项")
    assert projector.catch_up() > 0
    today = date(2026, 9, 2)
    everything, cursor = list_cases(views, ListQuery(within_path="/county/"), today)
    assert len(everything) == 7 and cursor is None
    accepted, _ = list_cases(views, ListQuery(within_path="/county/", status="accepted"), today)
    assert {r["id"] for r in accepted} == {str(p) for p in town1}
    mine, _ = list_cases(views, ListQuery(within_path="/county/town2/"), today)
    assert {r["id"] for r in mine} == {str(p) for p in town2}
    found, _ = list_cases(views, ListQuery(within_path="/county/", q="噪声"), today)
    assert len(found) == 4
    pages, cursor, seen = 0, None, []
    while True:
        page, cursor = list_cases(views, ListQuery(within_path="/county/", limit=3, cursor=cursor), today)
        seen += [r["id"] for r in page]
        pages += 1
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 7
    late = list_cases(views, ListQuery(within_path="/county/", overdue=True), date(2026, 12, 31))[0]
    assert {r["id"] for r in late} >= {str(p) for p in town1}


def test_a_restarted_projector_neither_skips_nor_repeats(make_service: MakeService, store: str,
                                                          tmp_path: Path) -> None:
    """The view's tracking position, written with its rows, is where a new projector resumes."""
    clock = FakeClock()
    service = make_service(clock)
    office = Office(service, clock)
    directory = directory_with_tree()
    env = views_env(service, tmp_path)
    first = EmbeddedProjector(service, case_list_projection(build_views(env), service, directory))
    pid = office.register(location_unit="town1")
    office.do("assign", pid, actor="reception1", unit="town1", person="handler1", mode="assign")
    assert first.catch_up() == 2
    office.do("accept", pid)
    second = EmbeddedProjector(service, case_list_projection(build_views(env), service, directory))
    assert second.catch_up() == 1 and second.catch_up() == 0
    [only] = list_cases(second.projection.view, ListQuery(within_path="/county/"), date(2026, 9, 2))[0]
    assert only["status"] == "accepted" and only["version"] == 3


def test_on_postgres_the_runner_follows_by_subscription(make_service: MakeService, store: str,
                                                         tmp_path: Path) -> None:
    """On PostgreSQL the subscribed runner brings the view up to a command's notification id."""
    clock = FakeClock()
    service = make_service(clock)
    directory = directory_with_tree()
    env = views_env(service, tmp_path)
    projection = case_list_projection(build_views(env), service, directory)
    if store == "sqlite":  # the library cannot subscribe to SQLite: the embedded projector polls
        with pytest.raises(NotImplementedError):
            subscribe(projection, dict(service.env))
        return
    office = Office(service, clock)
    with subscribe(projection, dict(service.env)) as runner:
        pid = office.register(location_unit="town1")
        other = office.register(location_unit="town1")
        office.do("assign", other, actor="reception1", unit="town1", person="handler1", mode="assign")
        outcome = service.accept(other, actor="h")
        runner.wait(outcome.notification_id, timeout=10)
    rows = list_cases(projection.view, ListQuery(within_path="/county/"), date(2026, 9, 2))[0]
    assert {r["id"]: r["status"] for r in rows}[str(outcome.petition.id)] == "accepted"
    assert str(pid) in {r["id"] for r in rows}


@pytest.mark.parametrize("batch", [1, 5])
def test_a_rebuild_interrupted_midway_and_resumed_equals_a_clean_rebuild(
        make_service: MakeService, store: str, tmp_path: Path, batch: int) -> None:
    """Killing the projector mid-rebuild and starting again gives the rows a clean rebuild gives:
    the batches committed before the crash are kept, the one it broke is done again."""
    clock = FakeClock()
    service = make_service(clock)
    office = Office(service, clock)
    directory = directory_with_tree()
    for _ in range(6):
        accepted_case(office)
    env = views_env(service, tmp_path)
    projection = case_list_projection(build_views(env), service, directory)
    clean = EmbeddedProjector(service, projection)
    clean.rebuild()
    everything = ListQuery(within_path="/county/", limit=200)
    expected = list_cases(projection.view, everything, date(2026, 9, 2))[0]

    class Crash(Exception):
        """The process dying in the middle of the rebuild."""

    seen = 0
    original = projection.statements

    def crash_after_seven(event: Any) -> Any:
        nonlocal seen
        seen += 1
        if seen > 7:
            raise Crash
        return original(event)

    projection.statements = crash_after_seven  # type: ignore[method-assign,assignment]
    with pytest.raises(Crash):
        EmbeddedProjector(service, projection).rebuild(batch=batch, bulk=False)
    restarted = case_list_projection(build_views(env), service, directory)
    assert EmbeddedProjector(service, restarted).catch_up() == 18 - 7 // batch * batch
    assert list_cases(restarted.view, everything, date(2026, 9, 2))[0] == expected


def test_a_missed_deadline_stays_charged_to_whoever_was_responsible_then(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Responsibility charges a miss to the unit and person of that moment, not to later holders."""
    from projections.responsibility import responsibility

    clock = FakeClock()
    service = make_service(clock)
    office = Office(service, clock)
    directory = directory_with_tree()
    projection = case_list_projection(build_views(views_env(service, tmp_path)), service, directory)
    late = office.register(location_unit="town1")
    office.do("assign", late, actor="reception1", unit="town1", person="handler1", mode="assign")
    clock.advance(days=20)
    service.record_missed_deadlines(late)
    office.do("accept", late, actor="handler2")  # handler2 takes over after the miss
    on_time = accepted_case(office)
    office.do("reply", on_time, opinion="support", text="同意")
    EmbeddedProjector(service, projection).catch_up()
    report = responsibility(projection.view, "/county/", date(2026, 9, 1), date(2026, 12, 31))
    people = {(p["unit"], p["person"]): p for p in report["people"]}
    assert people[("town1", "handler1")]["missed"] == 1
    assert people.get(("town1", "handler2"), {"missed": 0})["missed"] == 0
    units = {u["unit"]: u for u in report["units"]}
    assert units["county"]["received"] == 2 and units["county"]["met"] == 2  # triage, both cases
    assert units["town1"]["met"] == 2  # on_time: acceptance, then handling by the reply
    assert units["town1"]["open"] == 2 and units["town1"]["on_time_rate"] == round(2 / 3, 4)


def test_board_warnings_are_raised_and_cleared_and_readable_as_of_a_past_moment(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Urgent stands until escalation; the board as of the moment between shows it, now does not."""
    from datetime import UTC, datetime

    from projections.board import board

    clock = FakeClock()
    service = make_service(clock)
    office = Office(service, clock)
    directory = directory_with_tree()
    projector = EmbeddedProjector(service, case_list_projection(
        build_views(views_env(service, tmp_path)), service, directory))
    urgent = office.register(location_unit="town1", urgent=True, headcount=60,
                             petitioners=[{"name": f"代表{i}"} for i in range(5)])
    projector.catch_up()
    between = datetime.now(UTC)
    office.do("escalate", urgent, actor="reception1", to_unit="county", reason="重大紧急")
    projector.catch_up()
    view = projector.projection.view
    then = {(w["rule"], w["level"]) for w in board(view, "/county/", between)}
    now = {(w["rule"], w["level"]) for w in board(view, "/county/", datetime.now(UTC))}
    assert then == {("urgent", "red"), ("group", "red")}
    assert now == {("group", "red")}
    assert board(view, "/county/town2/", between) == []  # responsible is the county, not town2
