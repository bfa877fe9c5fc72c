"""The scaling benchmark's data sets (bench/view_scaling.py) are one office with histories of
different lengths, its rows inserted in their final form; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench import view_scaling
from bench.view_data import bench_store, build_container
from projections.store import Views, stamp
from tests.integration.conftest import postgres_or_skip


def rows(views: Views, table: str, order: str) -> list[dict[str, Any]]:
    return views.query(f"SELECT * FROM {{s}}{table} ORDER BY {order}")


def test_a_longer_history_adds_older_cases_and_leaves_the_current_work_as_it_is(store: str) -> None:
    """The longer set's newest cases and warnings are the shorter set's row for row, everything older
    is closed with its warnings cleared, and as many warnings stand now and at the past moment."""
    if store == "postgres":
        postgres_or_skip()
    now = datetime.now(UTC)
    as_of = now - view_scaling.AS_OF
    read = {}
    for size in (10_000, 10_700):
        with bench_store(store, "fill") as settings:
            container = build_container(settings)
            try:
                view_scaling.fill(container, size, now)
                views = container.views
                read[size] = (rows(views, "case_list", "received_at DESC"),
                              rows(views, "warning_board", "raised_at DESC"),
                              view_scaling.standing(views, as_of))
            finally:
                container.close()
    (short, short_warnings, short_standing), (long, long_warnings, long_standing) = read.values()
    assert len(long) == 10_700 and long[:10_000] == short
    assert long_warnings[:len(short_warnings)] == short_warnings
    assert short_standing == long_standing and short_standing[1] > 0
    assert short[-1]["received_at"] < stamp(as_of - timedelta(days=30))  # the moment is in both
    open_ids = {r["id"] for r in long if r["status"] != "closed"}
    assert open_ids == {r["id"] for r in long[:view_scaling.OPEN_CASES]}
    for w in long_warnings:
        assert (w["cleared_at"] is None) == (w["petition_id"] in open_ids)
        assert w["cleared_at"] is None or w["raised_at"] < w["cleared_at"] < stamp(now)
