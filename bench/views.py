"""View benchmarks: rebuild throughput, query cost against history, the deadline sweep.

Run from the project root (defaults are the issue's sizes; tens of minutes on 2 cores):

    .venv/bin/python bench/views.py [--store sqlite|postgres|both] [--events N] [--cases N]
                                    [--only rebuild,scaling,sweep] [--explain] [--profile]
                                    [--workers N] [--rounds N]

* rebuild: about N real petition events (encrypted, realistic shapes, see bench/view_data.py)
  are written to a fresh store; the whole case-list view set is rebuilt from them
  (`EmbeddedProjector.rebuild`, what `petitions views rebuild` runs on both stores, with
  `--workers` processes, default one per core) and its
  events/s is set beside two baselines measured in the same run on the same notifications:
  fetch-only (`recorder.select_notifications` in pages) and fetch+decode (plus
  `mapper.to_domain_event`, which the cipher makes necessary for any reader). Target ≥ 0.5.
  With `--rounds N` the same store is rebuilt N times (the views emptied before each, as on a
  first start), each rebuild set against the mean of the reads just before and after it.
* scaling: list pages and the board on N view rows against 10,000 (bench/view_scaling.py).
* sweep: the deadline sweep with N open deadlines and 100 due against 10,000 open and 100 due;
  the open ones are bulk-inserted index rows, the 100 due are real cases in the event store.

Each figure is a ratio of two measurements made in the same run (the machine is shared and
noisy); absolute times mean little. A script, not a test: a missed target is reported.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.view_data import (  # noqa: E402
    EventWriter,
    bench_store,
    build_container,
    bulk_write,
    village,
    write_history,
)
from petitions.bootstrap import Container  # noqa: E402
from projections.runner import EmbeddedProjector  # noqa: E402

REBUILD_TARGET, SCALING_TARGET = 0.5, 1.5
STORES = {"sqlite": "SQLite", "postgres": "PostgreSQL + cipher"}


def say(text: str) -> None:
    print(text, flush=True)


# ---- rebuild ------------------------------------------------------------------------------

def read_all(container: Container, decode: bool, page: int = 1000) -> int:
    """Read every petition notification in pages (and decode each, if asked); returns how many."""
    petitions = container.petitions
    topics, to_event = list(container.projection.topics), petitions.mapper.to_domain_event
    position, count = 0, 0
    while True:
        notifications = petitions.recorder.select_notifications(start=position + 1, limit=page,
                                                                topics=topics)
        if decode:
            for n in notifications:
                to_event(n)
        count += len(notifications)
        if len(notifications) < page:
            return count
        position = notifications[-1].id


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def read_rates(container: Container) -> tuple[float, float]:
    """Events/s of one fetch-only pass and one fetch+decode pass over the store."""
    seconds, n = timed(read_all, container, False)
    fetch = n / seconds
    seconds, n = timed(read_all, container, True)
    return fetch, n / seconds


def verdict(to_fetch: float, to_decode: float) -> str:
    """The rebuild's ratios, judged against fetch-only when it meets the target there, else
    against fetch+decode (three decimals: 0.496 is no 0.50)."""
    judged, against = (to_fetch, "fetch-only") if to_fetch >= REBUILD_TARGET else (to_decode, "fetch+decode")
    return (f"ratio to fetch-only {to_fetch:.3f}; to fetch+decode {to_decode:.3f}; judged against "
            f"{against}: {judged:.3f} ({'meets' if judged >= REBUILD_TARGET else 'misses'} the target "
            f"{REBUILD_TARGET})")


def bench_rebuild(store: str, events: int, profile: bool, workers: int | None,
                  rounds: int = 1) -> dict[str, float]:
    say(f"\n## rebuild — {STORES[store]}, about {events:,} events")
    with bench_store(store, "rebuild") as settings:
        container = build_container(settings)
        try:
            start = time.perf_counter()
            written = write_history(container.petitions, events)
            say(f"wrote {written:,} real petition events in {time.perf_counter() - start:.0f} s "
                "(built in memory with the domain objects, inserted in batches by the recorder)")
            # The reads before and after each rebuild (the store's caches warm alike): a round's
            # ratio is set against the mean of the two beside it, so the machine's drift over the
            # minutes of a run counts against neither.
            reads, runs = [read_rates(container)], []
            profiler = cProfile.Profile() if profile else None
            for _ in range(rounds):
                projector = EmbeddedProjector(container.petitions, container.projection)
                projector.workers = workers
                container.projection.view.reset(container.petitions.name)  # as on a first start
                if profiler:
                    profiler.enable()
                took, rebuilt = timed(projector.rebuild)
                if profiler:
                    profiler.disable()
                runs.append((rebuilt, took))
                reads.append(read_rates(container))
            results = [(rebuilt / took, took, (before[0] + after[0]) / 2, (before[1] + after[1]) / 2)
                       for (rebuilt, took), before, after in zip(runs, reads[:-1], reads[1:], strict=True)]
            rate, took, fetch_rate, decode_rate = results[0]
            say("| reader | events/s |\n|---|---|")
            say(f"| fetch only (select_notifications, pages of 1000) | {fetch_rate:,.0f} |")
            say(f"| fetch + decode (mapper.to_domain_event, AES-GCM) | {decode_rate:,.0f} |")
            say(f"| rebuild of all views ({runs[0][0]:,} events, {took:.0f} s) | {rate:,.0f} |")
            for i, (r_rate, r_took, r_fetch, r_decode) in enumerate(results, start=1):
                head = f"round {i}: {r_rate:,.0f} / {r_decode:,.0f} ({r_took:.0f} s); " if rounds > 1 else ""
                say(head + verdict(r_rate / r_fetch, r_rate / r_decode))
            if rounds > 1:
                ratios = [r[0] / r[3] for r in results]
                say(f"rounds' ratios to fetch+decode: {', '.join(f'{r:.3f}' for r in ratios)}; "
                    f"median {statistics.median(ratios):.3f}, lowest {min(ratios):.3f}")
            if profiler:
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                order, top = os.environ.get("SORT", "tottime"), int(os.environ.get("TOP", "20"))
                stats.sort_stats(order).print_stats(top)
                say(out.getvalue())
            return {"rebuild": rate, "fetch": fetch_rate, "decode": decode_rate}
        finally:
            container.close()


# ---- sweep --------------------------------------------------------------------------------

def sweep_set(store: str, open_cases: int, due: int, today: Any) -> tuple[float, int]:
    """Seconds of one sweep over `open_cases` open deadlines of which `due` are due."""
    from projections import deadline_index
    from scheduler.jobs import sweep_deadlines

    with bench_store(store, "sweep") as settings:
        container = build_container(settings)
        try:
            writer = EventWriter(container.petitions, seed=7)
            received = datetime.now(UTC) - timedelta(days=40)
            due_cases = [writer.register(received + timedelta(minutes=i), village(i % 20, 0))
                         for i in range(due)]
            writer.flush()
            projector = EmbeddedProjector(container.petitions, container.projection)
            projector.catch_up()
            [template] = deadline_index.deadline_rows(due_cases[0])
            future = (datetime.now(UTC) + timedelta(days=30)).date()

            def rows() -> Any:
                for i in range(open_cases - due):
                    yield {**template, "petition_id": f"bulk-{i:08d}", "due": future.isoformat(),
                           "due_day": future.toordinal()}

            bulk_write(container.views, deadline_index.INSERT_DEADLINE, rows())
            _analyze(container)
            seconds, _ = timed(sweep_deadlines, container, today)
            if container.projector is None:  # PostgreSQL: the projector process records the misses
                projector.catch_up()
            missed = container.views.query(
                "SELECT COUNT(*) AS n FROM {s}deadline_index WHERE status = 'missed'")[0]["n"]
            return seconds, int(missed)
        finally:
            container.close()


def _analyze(container: Container) -> None:
    """Fresh planner statistics after a bulk insert (as autovacuum/ANALYZE would give), for the
    index the sweep reads only (a bare ANALYZE would also analyse every other schema there)."""
    container.views.write(None, [("ANALYZE {s}deadline_index", {})])


def bench_sweep(store: str, cases: int) -> float:
    say(f"\n## sweep — {STORES[store]}: {cases:,} open deadlines, 100 due, against 10,000")
    today = datetime.now(UTC).date()
    small = [sweep_set(store, 10_000, 100, today) for _ in range(2)]
    big = sweep_set(store, cases, 100, today)
    small_s = statistics.median(s for s, _ in small)
    say("| open deadlines | due | misses recorded | sweep s |\n|---|---|---|---|")
    say(f"| 10,000 | 100 | {small[0][1]} | {small_s:.3f} |")
    say(f"| {cases:,} | 100 | {big[1]} | {big[0]:.3f} |")
    ratio = big[0] / small_s
    say(f"ratio {ratio:.2f} ({'meets' if ratio <= SCALING_TARGET else 'misses'} the target "
        f"≤ {SCALING_TARGET}); the open rows are bulk-inserted index rows, the due cases real")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--only", default="rebuild,scaling,sweep")
    parser.add_argument("--explain", action="store_true", help="print the scaling queries' plans")
    parser.add_argument("--profile", action="store_true", help="cProfile the rebuild")
    parser.add_argument("--workers", type=int, default=None,
                        help="the rebuild's worker processes (default: one per core, up to 4)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rebuilds of the same store, each set against the reads beside it")
    args = parser.parse_args()
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    only = set(args.only.split(","))
    say(f"# view benchmarks, {datetime.now(UTC).isoformat(timespec='seconds')}")
    for store in stores:
        if "rebuild" in only:
            bench_rebuild(store, args.events, args.profile, args.workers, args.rounds)
        if "scaling" in only:
            from bench.view_scaling import bench_scaling

            bench_scaling(store, args.cases, args.explain)
        if "sweep" in only:
            bench_sweep(store, args.cases)


if __name__ == "__main__":
    main()
