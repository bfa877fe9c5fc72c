"""Batched projection: many events in one transaction give exactly the tables one-by-one gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from domain.service import PetitionService
from projections.case_list import CaseListProjection
from projections.runner import EmbeddedProjector, build_views, case_list_projection
from projections.store import Views
from tests.integration.test_case_list import MakeService, directory_with_tree, views_env
from tests.support import FakeClock, Office

TABLES = ("case_list", "deadline_index", "responsibility_facts", "warning_board")


def dump(views: Views) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, in a fixed order."""
    tables = {}
    for table in TABLES:
        rows = views.query(f"SELECT * FROM {{s}}{table}")
        tables[table] = sorted(tuple(str(v) for v in r.values()) for r in rows)
    return tables


def batch_sizes(projection: CaseListProjection) -> list[int]:
    """The sizes of the batches the projection is given from now on (filled as they come)."""
    sizes: list[int] = []
    original = projection.process_events

    def counting(batch: Any) -> None:
        sizes.append(len(batch))
        original(batch)

    projection.process_events = counting  # type: ignore[method-assign]
    return sizes


def busy_county(service: PetitionService, clock: FakeClock) -> int:
    """Cases interleaved in time, through routing, acceptance, replies, misses, warnings and ends."""
    office = Office(service, clock)
    pids = [office.register(location_unit="town1" if i % 2 else "town2", urgent=i % 5 == 0,
                            headcount=60 if i % 7 == 0 else 1) for i in range(12)]
    for i, pid in enumerate(pids):
        office.do("assign", pid, actor="reception1", unit="town1", person=f"handler{i % 3}",
                  mode="assign")
    clock.advance(days=20)
    for pid in pids[:6]:
        service.record_missed_deadlines(pid)  # acceptance missed: red overdue, charged to handler
    for i, pid in enumerate(pids):
        if i % 4 == 3:
            office.do("decline", pid, reason="不属于信访事项")
            continue
        office.do("accept", pid, actor=f"handler{i % 3}")
        if i % 5 == 0:
            office.do("escalate", pid, actor="reception1", to_unit="county", reason="重大紧急")
    for i, pid in enumerate(pids):
        if i % 4 != 3 and i % 2 == 0:
            office.do("reply", pid, opinion="support", text="同意")
            office.do("serve", pid)
            office.do("rate", pid, satisfaction="dissatisfied" if i % 3 else "satisfied")
    return service.recorder.max_notification_id() or 0


def test_batches_and_one_by_one_give_identical_tables(make_service: MakeService, store: str,
                                                     tmp_path: Path) -> None:
    """A rebuild in batches of any size leaves every view table exactly as one event at a time."""
    clock = FakeClock()
    service = make_service(clock)
    events = busy_county(service, clock)
    projector = EmbeddedProjector(service, case_list_projection(
        build_views(views_env(service, tmp_path)), service, directory_with_tree()))
    assert projector.rebuild(batch=1, bulk=False) == events
    one_by_one = dump(projector.projection.view)
    assert len(one_by_one["warning_board"]) > 0 and len(one_by_one["responsibility_facts"]) > 0
    for batch in (7, 1000):
        with capture_logs() as logs:
            assert projector.rebuild(batch=batch, bulk=False) == events
        assert not [e for e in logs if "batch_failed" in e["event"]]  # no batch fell back
        assert dump(projector.projection.view) == one_by_one, batch


def test_a_batch_that_fails_keeps_the_events_before_the_failing_one_and_names_it(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """The failed batch is redone one event at a time: the earlier events stay, the bad one is
    logged by notification id and the projection stops there."""
    clock = FakeClock()
    service = make_service(clock)
    busy_county(service, clock)
    projection = case_list_projection(build_views(views_env(service, tmp_path)), service,
                                      directory_with_tree())
    original = projection.statements

    def broken_on_the_ninth(event: Any) -> Any:
        if event.originator_version == 2 and event.originator_id == ninth:
            raise ValueError("cannot project this event")
        return original(event)

    notifications = service.recorder.select_notifications(start=1, limit=100)
    ninth_notification = notifications[8]
    ninth = service.mapper.to_domain_event(ninth_notification).originator_id
    assert service.mapper.to_domain_event(ninth_notification).originator_version == 1
    failing = next(n.id for n in notifications
                   if service.mapper.to_domain_event(n).originator_id == ninth
                   and service.mapper.to_domain_event(n).originator_version == 2)
    projection.statements = broken_on_the_ninth  # type: ignore[method-assign,assignment]
    with capture_logs() as logs, pytest.raises(ValueError, match="cannot project"):
        EmbeddedProjector(service, projection).catch_up(batch=50, bulk=False)
    assert projection.view.position(service.name) == failing - 1
    [failed] = [e for e in logs if e["event"] == "projection_failed_on_event"]
    assert failed["notification_id"] == failing and failed["case"] == str(ninth)


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_the_subscription_runner_projects_a_waiting_backlog_in_batches(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Events recorded while no projector ran are projected together once it starts, and the
    tables equal a one-by-one rebuild."""
    from projections.runner import subscribe

    clock = FakeClock()
    service = make_service(clock)
    events = busy_county(service, clock)
    projection = case_list_projection(build_views(views_env(service, tmp_path)), service,
                                      directory_with_tree())
    sizes = batch_sizes(projection)
    with subscribe(projection, dict(service.env)) as runner:
        runner.wait(events, timeout=30)
    assert sum(sizes) == events and max(sizes) > 1
    by_subscription = dump(projection.view)
    EmbeddedProjector(service, projection).rebuild(batch=1, bulk=False)
    assert dump(projection.view) == by_subscription
