"""Projection lag: command commit to the view row being visible, at a paced command rate.

Run from the project root:

    .venv/bin/python bench/lag.py [--store sqlite|postgres|both] [--rate 200] [--seconds 30]
                                  [--threads 8]

Several threads issue commands (registrations, and assign/accept/reply on cases registered
earlier), paced so that together they start `--rate` commands a second, for `--seconds`. Each
command's notification id and the time its save returned (the commit) are recorded. A watcher
polls the view's tracking position (written in the same transaction as the rows, so a position
at or past an id means that event's rows are visible) every millisecond and stamps each id as
it becomes visible. Lag = visible − committed; p50/p99 are printed with the achieved rate.

* PostgreSQL: the views are kept by a real `petitions projector` process (the library's
  subscription runner, LISTEN/NOTIFY), started on a fresh schema and stopped afterwards.
* SQLite: the embedded projector in the same process, poked after each command as the server
  does, with its one-second timer.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.view_data import bench_store, build_container, village  # noqa: E402
from petitions.settings import Settings  # noqa: E402
from tests.support import registration  # noqa: E402

STEPS = [("assign", {"unit": "t01", "person": "t01.handler1", "mode": "assign", "actor": "r1"}),
         ("accept", {"actor": "t01.handler1"}),
         ("reply", {"opinion": "support", "text": "同意", "actor": "t01.handler1"})]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as PETITIONS_* variables, for the projector process."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None or isinstance(value, dict):
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"PETITIONS_{name.upper()}"] = str(value)
    return env


class Driver:
    """Paced command threads and a watcher of the view's position."""

    def __init__(self, container: Any, rate: float, seconds: float, threads: int) -> None:
        self.container, self.rate, self.seconds, self.threads = container, rate, seconds, threads
        self.committed: dict[int, float] = {}
        self.visible: dict[int, float] = {}
        self.cases: list[tuple[Any, int]] = []  # (id, next step)
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.started = 0
        self.errors = 0

    def command(self, i: int) -> int | None:
        petitions = self.container.petitions
        with self.lock:
            case = self.cases.pop(0) if i % 2 and self.cases else None
        if case is None:
            now = datetime.now(UTC)
            receipt = petitions.register(**registration(
                received_at=now - timedelta(minutes=5), receiving_unit="county",
                location_unit=village(1, i % 10), actor="r1"))
            with self.lock:
                self.cases.append((receipt.petition.id, 0))
            return receipt.notification_id
        pid, step = case
        name, kwargs = STEPS[step]
        outcome = getattr(petitions, name)(pid, **kwargs)
        if step + 1 < len(STEPS):
            with self.lock:
                self.cases.append((pid, step + 1))
        return outcome.notification_id

    def worker(self, k: int, begin: float) -> None:
        interval = self.threads / self.rate
        n = 0
        while True:
            due = begin + (k + n * self.threads) / self.rate
            if due - begin >= self.seconds:
                return
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                nid = self.command(k + n * self.threads)
            except Exception:
                self.errors += 1
                nid = None
            if nid is not None:
                self.committed[nid] = time.perf_counter()
            with self.lock:
                self.started += 1
            if self.container.projector is not None:
                self.container.projector.poke()
            n += 1
            _ = interval

    def watch(self) -> None:
        views, name = self.container.views, self.container.petitions.name
        seen = 0
        while not self.done.is_set() or seen < max(self.committed, default=0):
            position = views.position(name)
            now = time.perf_counter()
            for nid in range(seen + 1, position + 1):
                self.visible[nid] = now
            seen = max(seen, position)
            time.sleep(0.001)
            if self.done.is_set() and time.perf_counter() - self.end > 30:
                return

    def run(self) -> dict[str, float]:
        watcher = threading.Thread(target=self.watch, daemon=True)
        watcher.start()
        begin = time.perf_counter()
        workers = [threading.Thread(target=self.worker, args=(k, begin)) for k in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.end = time.perf_counter()
        self.done.set()
        watcher.join()
        lags = [self.visible[n] - t for n, t in self.committed.items() if n in self.visible]
        return {"commands": len(self.committed), "rate": len(self.committed) / (self.end - begin),
                "p50": percentile(lags, 0.5) * 1000, "p99": percentile(lags, 0.99) * 1000,
                "max": max(lags) * 1000, "unseen": len(self.committed) - len(lags),
                "errors": self.errors}


def bench_lag(store: str, rate: float, seconds: float, threads: int) -> None:
    with bench_store(store, "lag") as settings:
        container = build_container(settings)
        projector = None
        try:
            if store == "postgres":
                projector = subprocess.Popen(
                    [str(ROOT / ".venv" / "bin" / "python"), "-m", "petitions", "projector"],
                    env=settings_env(settings), cwd=ROOT, stdout=subprocess.DEVNULL)
                time.sleep(3)  # let it subscribe
                runner = "`petitions projector` process (subscription runner)"
            else:
                container.projector.start(interval=1.0)  # type: ignore[union-attr]
                runner = "embedded projector (in-process, poked after each command)"
            result = Driver(container, rate, seconds, threads).run()
        finally:
            if projector is not None:
                projector.terminate()
                projector.wait(timeout=30)
            container.close()
    store_name = "SQLite" if store == "sqlite" else "PostgreSQL + cipher"
    sustained = result["rate"] >= 0.97 * rate
    print(f"| {store_name} | {runner} | {rate:.0f} | {result['rate']:.1f} "
          f"({'sustained' if sustained else 'NOT sustained'}) | {result['commands']:.0f} | "
          f"{result['p50']:.1f} | {result['p99']:.1f} | {result['max']:.1f} | "
          f"{result['unseen']:.0f} | {result['errors']:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    print(f"# projection lag, {datetime.now(UTC).isoformat(timespec='seconds')}, "
          f"{args.threads} threads, {args.seconds:.0f} s")
    print("| store | runner | target/s | achieved/s | commands | p50 ms | p99 ms | max ms |"
          " never seen | errors |\n|---|---|---|---|---|---|---|---|---|---|")
    for store in (["sqlite", "postgres"] if args.store == "both" else [args.store]):
        bench_lag(store, args.rate, args.seconds, args.threads)


if __name__ == "__main__":
    main()
