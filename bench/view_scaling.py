"""Scaling of the list and board queries with history: N cases against 10,000 (bench/views.py).

The rows are bulk-inserted straight into the view tables (no events), shaped like the
projection's own rows (they start from what it writes for a real petition). History grows,
the office's current work does not: in both data sets the newest 5,000 cases are open and about
1,000 warnings stand; everything older is closed, its warnings raised and cleared long ago.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.view_data import (
    TOWNSHIPS,
    VILLAGES,
    EventWriter,
    bench_store,
    build_container,
    bulk_write,
    path,
    township,
    township_weights,
    village,
)
from petitions.bootstrap import Container
from projections import board as board_view
from projections import case_list
from projections.board_read import board_page
from projections.store import Views

OPEN_CASES, TARGET = 5_000, 1.5
OPEN_STATUSES = ("registered", "assigned", "accepted", "replied")

TZ = ZoneInfo("Asia/Shanghai")


def say(text: str) -> None:
    print(text, flush=True)


def fill(container: Container, cases: int, seed: int = 11) -> datetime:
    """`cases` list rows and their warnings; returns a past moment to read the board as of."""
    rng = random.Random(seed)
    writer = EventWriter(container.petitions)
    now = datetime.now(UTC)
    template_case = writer.register(now - timedelta(days=1), village(0, 0), urgent=True)
    path_of = lambda unit: path(unit)  # noqa: E731
    list_row = case_list.row(template_case, path_of)
    [(_, raise_row)] = [s for s in board_view.changes({}, template_case, now, path_of)
                        if s[0] == board_view.RAISE][:1]
    start = now - timedelta(days=3 * 365)
    step = (now - timedelta(days=1) - start) / cases
    weights = township_weights()
    warnings: list[dict[str, Any]] = []

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(cases):
            received = start + step * i
            is_open = i >= cases - OPEN_CASES
            t = rng.choices(range(TOWNSHIPS), weights)[0]
            location = village(t, rng.randrange(VILLAGES))
            responsible = township(t) if rng.random() < 0.7 else location
            pid = str(uuid.UUID(int=rng.getrandbits(128)))
            next_due = (received + timedelta(days=15)).date().isoformat() if is_open else None
            at = received.isoformat(timespec="microseconds")
            yield {**list_row, "id": pid, "case_number": f"XF-B-{i:07d}",
                   "status": rng.choice(OPEN_STATUSES) if is_open else "closed",
                   "category": rng.choice(("land", "housing", "labour")),
                   "location_unit": location, "responsible_unit": responsible,
                   "location_path": path(location), "responsible_path": path(responsible),
                   "received_at": at, "received_on": received.date().isoformat(),
                   "next_due": next_due, "has_missed": int(is_open and rng.random() < 0.1),
                   "urgent": 0, "version": 3}
            if rng.random() < (0.2 if is_open else 0.3):
                cleared = None if is_open else min(received + timedelta(days=rng.uniform(1, 30)),
                                                   now - timedelta(minutes=1))  # never in the future
                warnings.append({**raise_row, "petition_id": pid, "case_number": f"XF-B-{i:07d}",
                                 "rule": "overdue", "level": "red", "unit_path": path(responsible),
                                 "responsible_unit": responsible, "at": at, "version": 2,
                                 "cleared": cleared.isoformat(timespec="microseconds")
                                 if cleared else None})

    bulk_write(container.views, case_list.UPSERT, rows())
    clear = ("UPDATE {s}warning_board SET cleared_at = %(cleared)s WHERE petition_id ="
             " %(petition_id)s AND cleared_at IS NULL")
    bulk_write(container.views, board_view.RAISE, iter(warnings))
    bulk_write(container.views, clear, (w for w in warnings if w["cleared"]))
    container.views.write(None, [("ANALYZE", {})])
    return start + step * int(cases * 0.6)  # a moment well inside the history


def queries(as_of: datetime, today: date) -> dict[str, Callable[[Views], Any]]:
    """The reads measured: list pages and the board, as the routes make them."""
    small = path(township(TOWNSHIPS - 1))
    q = case_list.ListQuery
    return {
        "list: county-wide page": lambda v: case_list.list_cases(v, q("/county/"), today),
        "list: small-township page": lambda v: case_list.list_cases(v, q(small), today),
        "list: status=accepted page": lambda v: case_list.list_cases(
            v, q("/county/", status="accepted"), today),
        "list: overdue page": lambda v: case_list.list_cases(v, q("/county/", overdue=True), today),
        # The board as GET /api/v1/warnings reads it (board_read.board_page, sensitive periods
        # applied), a page of 50 like the list's.
        "board: now, county": lambda v: board_page(v, "/county/", datetime.now(UTC), TZ, limit=50),
        "board: now, small township": lambda v: board_page(v, small, datetime.now(UTC), TZ, limit=50),
        "board: as_of a past moment": lambda v: board_page(v, "/county/", as_of, TZ, limit=50),
    }


def measure(views: Views, fn: Callable[[Views], Any], repeat: int = 30) -> tuple[float, int]:
    """Median seconds of a read (after one warm-up), and how many rows it returned."""
    result = fn(views)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(views)
        times.append(time.perf_counter() - start)
    rows = result[0] if isinstance(result, tuple) else result
    return statistics.median(times), len(rows)


def explain(container: Container, store: str, as_of: datetime, today: date) -> None:
    """The plans of the measured reads (EXPLAIN / EXPLAIN QUERY PLAN) on the big data set."""
    views = container.views
    captured: list[tuple[str, dict[str, Any]]] = []
    original = views.query

    def capture(sql: str, params: Any = None) -> list[dict[str, Any]]:
        captured.append((sql, dict(params or {})))
        return original(sql, params)

    views.query = capture  # type: ignore[method-assign]
    try:
        for name, fn in queries(as_of, today).items():
            captured.clear()
            fn(views)
            for sql, params in captured:
                prefix = "EXPLAIN QUERY PLAN " if store == "sqlite" else "EXPLAIN "
                plan = original(prefix + sql, params)
                lines = [str(r.get("detail") or r.get("QUERY PLAN")) for r in plan]
                say(f"{name}:\n    " + "\n    ".join(lines))
    finally:
        views.query = original  # type: ignore[method-assign]


def bench_scaling(store: str, cases: int, show_plans: bool) -> dict[str, float]:
    say(f"\n## scaling — {'SQLite' if store == 'sqlite' else 'PostgreSQL'}: {cases:,} cases "
        "against 10,000 (view rows bulk-inserted, not projected)")
    today = datetime.now(UTC).date()
    results: dict[int, dict[str, tuple[float, int]]] = {}
    for size in (10_000, cases):
        with bench_store(store, "scale") as settings:
            container = build_container(settings)
            try:
                start = time.perf_counter()
                as_of = fill(container, size)
                say(f"filled {size:,} cases in {time.perf_counter() - start:.0f} s")
                if size == cases and show_plans:
                    explain(container, store, as_of, today)
                results[size] = {name: measure(container.views, fn)
                                 for name, fn in queries(as_of, today).items()}
            finally:
                container.close()
    say(f"| read | 10,000: ms (rows) | {cases:,}: ms (rows) | ratio |\n|---|---|---|---|")
    ratios = {}
    for name in results[10_000]:
        (small_s, small_n), (big_s, big_n) = results[10_000][name], results[cases][name]
        ratios[name] = big_s / small_s
        say(f"| {name} | {small_s * 1000:.2f} ({small_n}) | {big_s * 1000:.2f} ({big_n}) | "
            f"{ratios[name]:.2f}{'' if ratios[name] <= TARGET else ' ✗'} |")
    worst = max(ratios.values())
    say(f"worst ratio {worst:.2f} ({'meets' if worst <= TARGET else 'misses'} the target ≤ {TARGET})")
    return ratios
