"""Scaling of the list and board queries with history: N cases against 10,000 (bench/views.py).

The two data sets are one office with histories of different lengths, not offices of different
sizes. Cases come at the same rate in both, 30,000 a year (a large county's letters-and-visits
office, about 82 a day), counted back from an hour ago: 10,000 cases reach back four months, a
million reach back 33 years (to 1993; the API takes years from 1990, so `fill` refuses more than
about 1.1 million). The office's current work is the same: the newest 5,000 cases are open and
about 1,000 warnings stand; everything older is closed, its warnings raised and cleared long ago.
The past moment the board is read as of is 45 days ago, inside both histories (and 30 days
after their start at least, the longest a warning here stands), so the same warnings stood then.

The cases are drawn newest first, a thousand at a time from a seed of their own: the big set's
newest 10,000 cases are the small set's, row for row. The rows are bulk-inserted straight into
the view tables (no events), each once in its final form, shaped like the projection's own rows
(they start from what it writes for a real petition).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.view_data import (
    TOWNSHIPS,
    VILLAGES,
    EventWriter,
    bench_store,
    build_container,
    bulk_load,
    path,
    township,
    township_weights,
    village,
)
from petitions.bootstrap import Container
from projections import board as board_view
from projections import case_list, case_list_read
from projections.board_read import board_page
from projections.store import Views, stamp

OPEN_CASES, TARGET = 5_000, 1.5
OPEN_STATUSES = ("registered", "assigned", "accepted", "replied")
STEP = timedelta(days=365) / 30_000  # between two cases: 30,000 a year
AS_OF = timedelta(days=45)  # the past moment, before now
CHUNK = 1_000  # cases drawn from one seed

TZ = ZoneInfo("Asia/Shanghai")


def say(text: str) -> None:
    print(text, flush=True)


Row = dict[str, Any]


def office(container: Container, cases: int, now: datetime,
           seed: int = 11) -> Callable[[], Iterator[tuple[Row, Row | None]]]:
    """The office's `cases` list rows, oldest first, each with its warning if it has one."""
    newest = now - timedelta(hours=1)
    if (newest - STEP * (cases - 1)).year < 1990:
        raise ValueError(f"{cases:,} cases at 30,000 a year reach back before 1990")
    writer = EventWriter(container.petitions)
    template_case = writer.register(newest, village(0, 0), urgent=True)
    list_row = case_list.row(template_case, path)
    [(_, raised)] = [s for s in board_view.changes({}, template_case, now, path)
                     if s[0] == board_view.RAISE][:1]
    weights = township_weights()

    def case(rng: random.Random, k: int) -> tuple[Row, Row | None]:
        """The k-th case counting back from the newest."""
        received = newest - STEP * k
        is_open = k < OPEN_CASES
        t = rng.choices(range(TOWNSHIPS), weights)[0]
        location = village(t, rng.randrange(VILLAGES))
        responsible = township(t) if rng.random() < 0.7 else location
        pid, number, at = str(uuid.UUID(int=rng.getrandbits(128))), f"XF-B-{k:07d}", stamp(received)
        row = {**list_row, "id": pid, "case_number": number,
               "status": rng.choice(OPEN_STATUSES) if is_open else "closed",
               "category": rng.choice(("land", "housing", "labour")),
               "location_unit": location, "responsible_unit": responsible,
               "location_path": path(location), "responsible_path": path(responsible),
               "received_at": at, "received_on": received.astimezone(TZ).date().isoformat(),
               "next_due": (received + timedelta(days=15)).date().isoformat() if is_open else None,
               "has_missed": int(is_open and rng.random() < 0.1), "urgent": 0, "version": 3}
        if rng.random() >= (0.2 if is_open else 0.3):
            return row, None
        cleared = None if is_open else min(received + timedelta(days=rng.uniform(1, 30)),
                                           now - timedelta(minutes=1))  # never in the future
        return row, {"petition_id": pid, "case_number": number, "rule": "overdue", "level": "red",
                     "detail": raised["detail"], "responsible_unit": responsible,
                     "responsible_person": raised["responsible_person"],
                     "unit_path": path(responsible), "raised_at": at,
                     "cleared_at": stamp(cleared) if cleared else None, "raised_version": 2}

    def rows() -> Iterator[tuple[Row, Row | None]]:
        for j in reversed(range(-(-cases // CHUNK))):
            rng = random.Random(seed * 1_000_003 + j)
            drawn = [case(rng, k) for k in range(j * CHUNK, min((j + 1) * CHUNK, cases))]
            yield from reversed(drawn)

    return rows


def fill(container: Container, cases: int, now: datetime, seed: int = 11) -> None:
    """`cases` list rows and their warnings, the newest an hour before `now`.

    Two passes over the same draws (a million rows' warnings held in memory would take a few
    hundred MB): the list rows, then the warnings, each inserted once as it finally stands."""
    rows = office(container, cases, now, seed)
    bulk_load(container.views, "case_list", (row for row, _ in rows()))
    bulk_load(container.views, "warning_board", (w for _, w in rows() if w is not None))


def queries(as_of: datetime, today: date) -> dict[str, Callable[[Views], Any]]:
    """The reads measured: list pages and the board, as the routes make them."""
    small = path(township(TOWNSHIPS - 1))
    q = case_list_read.ListQuery
    return {
        "list: county-wide page": lambda v: case_list_read.list_cases(v, q("/county/"), today),
        "list: small-township page": lambda v: case_list_read.list_cases(v, q(small), today),
        "list: status=accepted page": lambda v: case_list_read.list_cases(
            v, q("/county/", status="accepted"), today),
        "list: overdue page": lambda v: case_list_read.list_cases(v, q("/county/", overdue=True), today),
        # The board as GET /api/v1/warnings reads it (board_read.board_page, sensitive periods
        # applied), a page of 50 like the list's.
        "board: now, county": lambda v: board_page(v, "/county/", datetime.now(UTC), TZ, limit=50),
        "board: now, small township": lambda v: board_page(v, small, datetime.now(UTC), TZ, limit=50),
        "board: as_of a past moment": lambda v: board_page(v, "/county/", as_of, TZ, limit=50),
    }


def measure(sets: list[Views], fn: Callable[[Views], Any],
            repeat: int = 40) -> list[tuple[float, int]]:
    """Median seconds of a read on each data set and how many rows it returned, the sets read in
    turn round after round (after one warm-up each), so a busy moment on the shared machine falls
    on both alike."""
    results = [fn(views) for views in sets]
    times: list[list[float]] = [[] for _ in sets]
    for _ in range(repeat):
        for views, took in zip(sets, times, strict=True):
            start = time.perf_counter()
            fn(views)
            took.append(time.perf_counter() - start)
    return [(statistics.median(took), len(r[0] if isinstance(r, tuple) else r))
            for took, r in zip(times, results, strict=True)]


def standing(views: Views, as_of: datetime) -> tuple[int, int]:
    """How many warnings stand now, and how many stood at `as_of`."""
    count = "SELECT COUNT(*) AS n FROM {s}warning_board WHERE "
    now = views.query(count + "cleared_at IS NULL")[0]["n"]
    then = views.query(count + "raised_at <= %(t)s AND (cleared_at IS NULL OR cleared_at > %(t)s)",
                       {"t": stamp(as_of)})[0]["n"]
    return int(now), int(then)


def explain(container: Container, store: str, as_of: datetime, today: date) -> None:
    """The plans of the measured reads on the big data set: EXPLAIN QUERY PLAN on SQLite, and on
    PostgreSQL EXPLAIN (ANALYZE, BUFFERS), which shows the rows and pages each step read."""
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
                prefix = "EXPLAIN QUERY PLAN " if store == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
                plan = original(prefix + sql, params)
                lines = [str(r.get("detail") or r.get("QUERY PLAN")) for r in plan]
                say(f"{name}:\n    " + "\n    ".join(lines))
    finally:
        views.query = original  # type: ignore[method-assign]


def bench_scaling(store: str, cases: int, show_plans: bool) -> dict[str, float]:
    say(f"\n## scaling — {'SQLite' if store == 'sqlite' else 'PostgreSQL'}: {cases:,} cases "
        "against 10,000, one office's histories (view rows bulk-inserted, not projected)")
    now = datetime.now(UTC)
    as_of, today = now - AS_OF, now.date()
    with ExitStack() as stack:
        sets: list[Views] = []
        for size in (10_000, cases):
            container = build_container(stack.enter_context(bench_store(store, "scale")))
            stack.callback(container.close)
            start = time.perf_counter()
            fill(container, size, now)
            took = time.perf_counter() - start
            [oldest] = container.views.query("SELECT MIN(received_on) AS d FROM {s}case_list")
            standing_now, then = standing(container.views, as_of)
            say(f"filled {size:,} cases in {took:.0f} s: received from {oldest['d']}; warnings "
                f"standing now {standing_now:,}, as of the past moment ({as_of:%Y-%m-%d}) {then:,}")
            sets.append(container.views)
        if show_plans:
            explain(container, store, as_of, today)
        results = {name: measure(sets, fn) for name, fn in queries(as_of, today).items()}
    say(f"| read | 10,000: ms (rows) | {cases:,}: ms (rows) | ratio |\n|---|---|---|---|")
    ratios = {}
    for name, [(small_s, small_n), (big_s, big_n)] in results.items():
        ratios[name] = big_s / small_s
        say(f"| {name} | {small_s * 1000:.2f} ({small_n}) | {big_s * 1000:.2f} ({big_n}) | "
            f"{ratios[name]:.2f}{'' if ratios[name] <= TARGET else ' ✗'} |")
    worst = max(ratios.values())
    say(f"worst ratio {worst:.2f} ({'meets' if worst <= TARGET else 'misses'} the target ≤ {TARGET})")
    return ratios
