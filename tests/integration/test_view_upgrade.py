"""Upgrading: views made by an older version, with other columns, are dropped and rebuilt on start."""

from __future__ import annotations

from pathlib import Path

from domain.service import PetitionService
from projections.runner import EmbeddedProjector, build_views, case_list_projection
from projections.store import Views
from tests.integration.test_batch import busy_county, dump
from tests.integration.test_case_list import MakeService, directory_with_tree, views_env
from tests.support import FakeClock

OLD_DEADLINE_INDEX = (
    "CREATE TABLE {s}deadline_index (petition_id TEXT NOT NULL, idx INTEGER NOT NULL,"
    " clock TEXT NOT NULL, due TEXT NOT NULL, status TEXT NOT NULL,"
    " responsible_unit TEXT NOT NULL, responsible_person TEXT NOT NULL,"
    " PRIMARY KEY (petition_id, idx))"
)


def projector(service: PetitionService, tmp_path: Path) -> EmbeddedProjector:
    return EmbeddedProjector(service, case_list_projection(
        build_views(views_env(service, tmp_path)), service, directory_with_tree()))


def make_it_old(views: Views) -> None:
    """What an install from before the deadline index grew five columns holds."""
    prefix = getattr(views, "_prefix", "")  # the schema, on PostgreSQL
    views.write(None, [(f"DROP TABLE {prefix}deadline_index", {}),
               (OLD_DEADLINE_INDEX.replace("{s}", prefix), {}),
               (f"UPDATE {prefix}view_schema SET fingerprint = 'from-an-older-version'", {})])


def test_views_of_an_older_version_are_rebuilt_to_the_same_tables(make_service: MakeService,
                                                                  tmp_path: Path) -> None:
    """Old columns would break every write; on start the views are dropped and caught up anew."""
    clock = FakeClock()
    service = make_service(clock)
    events = busy_county(service, clock)
    first = projector(service, tmp_path)
    assert first.catch_up() == events
    clean = dump(first.projection.view)
    make_it_old(first.projection.view)
    first.projection.view.close()

    again = projector(service, tmp_path)
    assert again.projection.view.position(service.name) == 0  # the old position was forgotten
    assert again.catch_up() == events
    assert dump(again.projection.view) == clean
    again.projection.view.close()

    unchanged = projector(service, tmp_path)  # same definition: nothing dropped
    assert unchanged.projection.view.position(service.name) == service.recorder.max_notification_id()
