"""Command throughput of PetitionService against the bare eventsourcing library, per store.

Run from the project root:

    .venv/bin/python bench/commands.py [--store sqlite|postgres|both] [-n N] [-m M]

For each store kind, in one process:

* ours: N registrations through PetitionService (built by petitions.bootstrap.build_service),
  then M of those cases driven through assign -> accept -> extend -> add_note -> reply ->
  serve -> rate (satisfied) -> close_case;
* raw: a plain eventsourcing Application on the same persistence env (same module, same kind of
  fresh sqlite file or fresh postgres schema, same cipher setting) creating N bare aggregates
  whose created event carries a payload of about the same size (one save each), then M of them
  x 8 commands (get -> @event method -> save).

In each round both sides run side by side, each on its own fresh, empty store, alternating
blocks of commands in ABBA order, so disk and machine noise on a shared host hits both alike;
the median over rounds is compared. Prints a table; a script, not a test (exit 0 unless
something breaks; a missed target is reported, not an error).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.cryptography import AESCipher  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402

from domain.calendar import WorkCalendar  # noqa: E402
from domain.deadlines import DeadlinePolicy  # noqa: E402
from domain.service import PetitionService  # noqa: E402
from petitions.bootstrap import build_service, event_store_env  # noqa: E402
from petitions.settings import Settings  # noqa: E402
from tests.support import START, STEPS, registration  # noqa: E402

TARGET = 0.8
PG: dict[str, str] = {
    "host": "127.0.0.1", "port": "5432", "dbname": "test", "user": "postgres", "password": "",
}
ACTOR = "handler1"

# The whole lifecycle of a case, as (service method, keyword arguments); `at` is the clock's now.
LIFECYCLE: list[tuple[str, dict[str, Any]]] = [
    ("assign", STEPS["assigned"][1]),
    ("accept", STEPS["accepted"][1]),
    ("extend", {"days": 30, "reason": "需补充调查，经批准延期", "approved_by": "leader1"}),
    ("add_note", {"text": "走访当事人及村委会，核实承包地被占用情况。", "kind": "investigation"}),
    ("reply", STEPS["replied"][1]),
    ("serve", STEPS["served"][1]),
    ("rate", {"satisfaction": "satisfied"}),
    ("close_case", {"reason": "信访人满意，办结"}),
]
STEP_NAMES = [name for name, _ in LIFECYCLE]


# ---- the baseline: a bare aggregate of about the same size, on the bare library ------------

class RawCase(Aggregate):
    """A bare aggregate whose events carry about what ours carry, with no rules at all."""

    @event("Registered")
    def __init__(
        self, case_number: str, channel: str, received_at: datetime, receiving_unit: str,
        location_unit: str, petitioners: list[dict[str, Any]], headcount: int, category: str,
        summary: str, content: str, urgent: bool, key_person: bool, at: datetime, actor: str,
        triage: dict[str, Any], access_code_digest: str, related_case_id: str | None,
        related_case_number: str | None, timezone: str,
    ) -> None:
        self.case_number = case_number
        self.channel = channel
        self.received_at = received_at
        self.receiving_unit = receiving_unit
        self.location_unit = location_unit
        self.petitioners = petitioners
        self.headcount = headcount
        self.category = category
        self.summary = summary
        self.content = content
        self.urgent = urgent
        self.key_person = key_person
        self.registered_at = at
        self.registered_by = actor
        self.deadlines = [triage]
        self.access_code_digest = access_code_digest
        self.related_case_id = related_case_id
        self.related_case_number = related_case_number
        self.timezone = timezone
        self.status = "registered"
        self.last_at = at

    @event("Assigned")
    def assign(self, unit: str, person: str | None, mode: str, at: datetime, actor: str,
               note: str | None, acceptance: dict[str, Any]) -> None:
        self.status, self.responsible_unit, self.last_at = "assigned", unit, at
        self.deadlines.append(acceptance)

    @event("Accepted")
    def accept(self, at: datetime, actor: str, note: str | None,
               handling: dict[str, Any]) -> None:
        self.status, self.last_at = "accepted", at
        self.deadlines.append(handling)

    @event("Extended")
    def extend(self, days: int, reason: str, approved_by: str, at: datetime, actor: str,
               note: str | None, handling: dict[str, Any]) -> None:
        self.extension = {"days": days, "reason": reason, "by": approved_by}
        self.deadlines[-1], self.last_at = handling, at

    @event("NoteAdded")
    def add_note(self, text: str, kind: str, at: datetime, actor: str,
                 note: str | None) -> None:
        self.notes_count = getattr(self, "notes_count", 0) + 1
        self.last_at = at

    @event("Replied")
    def reply(self, opinion: str, text: str, at: datetime, actor: str,
              note: str | None) -> None:
        self.status, self.opinion, self.last_at = "replied", opinion, at

    @event("Served")
    def serve(self, at: datetime, actor: str, note: str | None,
              window: dict[str, Any]) -> None:
        self.status, self.last_at = "served", at
        self.deadlines.append(window)

    @event("Rated")
    def rate(self, satisfaction: str, at: datetime, actor: str, note: str | None) -> None:
        self.satisfaction, self.last_at = satisfaction, at

    @event("Closed")
    def close_case(self, reason: str, at: datetime, actor: str, note: str | None,
                   revisit: dict[str, Any]) -> None:
        self.status, self.outcome, self.last_at = "closed", reason, at
        self.deadlines.append(revisit)


class RawApp(Application[UUID]):
    """The library's plain Application with the same infrastructure settings as ours.

    Snapshots every 50 events, like PetitionService: the library then looks for a snapshot on
    every load, a cost of the storage configuration, not of our command layer.
    """

    name = "RawBench"
    snapshotting_intervals = {RawCase: 50}  # noqa: RUF012 - the library's class attribute


def _raw_payloads() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Registration fields and per-step fields shaped like ours (computed once, untimed)."""
    policy = DeadlinePolicy(WorkCalendar())
    day = policy.office_date(START)

    def deadline(clock: str) -> dict[str, Any]:
        return policy.start(clock, day).to_dict()

    reg = registration()
    created = {k: reg[k] for k in ("channel", "received_at", "receiving_unit", "location_unit",
                                   "headcount", "category", "summary", "content", "actor")}
    created["petitioners"] = [dict(p) for p in reg["petitioners"]]
    created.update(urgent=False, key_person=False, triage=deadline("triage"),
                   related_case_id=None, related_case_number=None, timezone="Asia/Shanghai")
    extra = {
        "assign": {"acceptance": deadline("acceptance")},
        "accept": {"handling": deadline("handling")},
        "extend": {"handling": deadline("handling")},
        "serve": {"window": deadline("review_request")},
        "close_case": {"revisit": deadline("revisit")},
    }
    steps = {name: {**kwargs, **extra.get(name, {}), "note": None} for name, kwargs in LIFECYCLE}
    return created, steps


RAW_CREATED, RAW_STEPS = _raw_payloads()


# ---- stores ------------------------------------------------------------------------------------

@dataclass
class Store:
    """One store kind to measure: how to make fresh settings, and what it needs around a run."""

    label: str
    kind: str  # "sqlite" | "postgres"
    cipher_key: str | None

    @contextmanager
    def fresh(self, tag: str) -> Iterator[Settings]:
        """Settings on a new, empty store (temp dir; for postgres also a new schema)."""
        tmp = Path(tempfile.mkdtemp(prefix=f"petitions-bench-{tag}-"))
        schema = ""
        try:
            if self.kind == "postgres":
                schema = f"bench_{tag}_{uuid.uuid4().hex[:12]}"
                _pg_execute(f'CREATE SCHEMA "{schema}"')
            yield Settings(
                store=self.kind, data_dir=tmp, cipher_key=self.cipher_key,
                postgres_host=PG["host"], postgres_port=int(PG["port"]),
                postgres_dbname=PG["dbname"], postgres_user=PG["user"],
                postgres_password=PG["password"], postgres_schema=schema,
                token_secret="bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
            )
        finally:
            if schema:
                _pg_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            shutil.rmtree(tmp, ignore_errors=True)


def _pg_connect() -> Any:
    import psycopg

    return psycopg.connect(
        host=PG["host"], port=PG["port"], dbname=PG["dbname"], user=PG["user"],
        password=PG["password"], connect_timeout=3, autocommit=True,
    )


def _pg_execute(sql: str) -> None:
    with _pg_connect() as conn:
        conn.execute(sql)


def postgres_unreachable() -> str | None:
    """None if the benchmark's PostgreSQL answers, else why not."""
    try:
        with _pg_connect() as conn:
            conn.execute("SELECT 1")
    except Exception as error:  # any failure means: skip, and say why
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
    return None


# ---- the two sides, driven block by block --------------------------------------------------

class BenchClock:
    """The service clock: stands still unless moved, so every `at` is now and never goes back."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Side(ABC):
    """One application on its own fresh store; registers and drives cases a block at a time."""

    name = ""

    def __init__(self, n: int, m: int) -> None:
        self.n, self.m = n, m
        self.ids: list[UUID] = []
        self.done_steps = 0

    @abstractmethod
    def register(self, count: int) -> None:
        """Register the next `count` cases."""

    @abstractmethod
    def steps(self, count: int) -> None:
        """Carry out the next `count` lifecycle commands."""

    @abstractmethod
    def check_and_measure(self) -> dict[str, float]:
        """After the run (untimed): the first case is closed; stored sizes of its events."""

    @abstractmethod
    def close(self) -> None:
        """Release the store."""


def _sizes(recorder: Any, originator_id: UUID) -> dict[str, float]:
    states = [len(e.state) for e in recorder.select_events(originator_id)]
    sizes = {"created": float(states[0])}
    if len(states) > 1:
        sizes["step_mean"] = statistics.fmean(states[1:])
    return sizes


class Ours(Side):
    """PetitionService, built by the composition root, with a clock the benchmark moves."""

    name = "ours"

    def __init__(self, settings: Settings, n: int, m: int) -> None:
        super().__init__(n, m)
        self.clock = BenchClock(START + timedelta(hours=1))
        self.service: PetitionService = build_service(settings, clock=self.clock)
        self.registration = registration()
        self.commands = [(getattr(self.service, name), kwargs) for name, kwargs in LIFECYCLE]

    def register(self, count: int) -> None:
        register, reg, ids = self.service.register, self.registration, self.ids
        for _ in range(count):
            ids.append(register(**reg).petition.id)

    def steps(self, count: int) -> None:
        one_minute, clock, commands, ids = timedelta(minutes=1), self.clock, self.commands, self.ids
        per_case = len(commands)
        for k in range(self.done_steps, self.done_steps + count):
            command, kwargs = commands[k % per_case]
            clock.now += one_minute  # business time moves on; `at` defaults to now
            command(ids[k // per_case], actor=ACTOR, **kwargs)
        self.done_steps += count

    def check_and_measure(self) -> dict[str, float]:
        first = self.service.get(self.ids[0])
        if self.m and first.status != "closed":
            raise RuntimeError(f"ours: first case is {first.status}, not closed")
        sizes = _sizes(self.service.recorder, first.id)
        return sizes

    def close(self) -> None:
        self.service.close()


class Raw(Side):
    """The plain library Application on the same persistence env, with RawCase."""

    name = "raw"

    def __init__(self, settings: Settings, n: int, m: int) -> None:
        super().__init__(n, m)
        self.app = RawApp(event_store_env(settings))
        self.at = START + timedelta(hours=1)
        self.steps_list = list(RAW_STEPS.items())

    def register(self, count: int) -> None:
        save, ids, at, digest = self.app.save, self.ids, self.at, "0" * 64
        for _ in range(count):
            case = RawCase(case_number=f"XF-2026-{len(ids) + 1:06d}", at=at,
                           access_code_digest=digest, **RAW_CREATED)
            save(case)
            ids.append(case.id)

    def steps(self, count: int) -> None:
        one_minute, ids = timedelta(minutes=1), self.ids
        get, save = self.app.repository.get, self.app.save
        steps, per_case = self.steps_list, len(self.steps_list)
        for k in range(self.done_steps, self.done_steps + count):
            name, kwargs = steps[k % per_case]
            self.at += one_minute
            case: RawCase = get(ids[k // per_case])
            getattr(case, name)(at=self.at, actor=ACTOR, **kwargs)
            save(case)
        self.done_steps += count

    def check_and_measure(self) -> dict[str, float]:
        first: RawCase = self.app.repository.get(self.ids[0])
        if self.m and first.status != "closed":
            raise RuntimeError(f"raw: first case is {first.status}, not closed")
        return _sizes(self.app.recorder, first.id)

    def close(self) -> None:
        self.app.close()


SIDES: dict[str, Callable[[Settings, int, int], Side]] = {"ours": Ours, "raw": Raw}
PHASES = ("register", "lifecycle", "overall")


@dataclass
class Round:
    """Wall and CPU seconds spent by one side in one round, per phase."""

    n: int
    m: int
    wall: dict[str, float] = field(default_factory=lambda: {"register": 0.0, "lifecycle": 0.0})
    cpu: dict[str, float] = field(default_factory=lambda: {"register": 0.0, "lifecycle": 0.0})
    sizes: dict[str, float] = field(default_factory=dict)

    def count(self, phase: str) -> int:
        steps = self.m * len(LIFECYCLE)
        return {"register": self.n, "lifecycle": steps, "overall": self.n + steps}[phase]

    def seconds(self, phase: str, cpu: bool = False) -> float:
        spent = self.cpu if cpu else self.wall
        return spent["register"] + spent["lifecycle"] if phase == "overall" else spent[phase]

    def ops(self, phase: str) -> float:
        seconds = self.seconds(phase)
        return self.count(phase) / seconds if seconds else 0.0

    def cpu_ms(self, phase: str) -> float:
        count = self.count(phase)
        return 1000 * self.seconds(phase, cpu=True) / count if count else 0.0


def run_round(store: Store, n: int, m: int, block: int, first: str) -> dict[str, Round]:
    """Both sides on fresh stores at once, alternating blocks of `block` commands (ABBA)."""
    second = "raw" if first == "ours" else "ours"
    rounds = {side: Round(n, m) for side in SIDES}
    with store.fresh("raw") as raw_settings, store.fresh("ours") as ours_settings:
        sides = {"raw": Raw(raw_settings, n, m), "ours": Ours(ours_settings, n, m)}
        try:
            for phase, total, action in (("register", n, "register"),
                                         ("lifecycle", m * len(LIFECYCLE), "steps")):
                gc.collect()
                done, b = 0, 0
                while done < total:
                    count = min(block, total - done)
                    for name in (first, second) if b % 2 == 0 else (second, first):
                        c0, w0 = time.process_time(), time.perf_counter()
                        getattr(sides[name], action)(count)
                        w1, c1 = time.perf_counter(), time.process_time()
                        rounds[name].wall[phase] += w1 - w0
                        rounds[name].cpu[phase] += c1 - c0
                    done, b = done + count, b + 1
            for name, side in sides.items():
                rounds[name].sizes = side.check_and_measure()
        finally:
            for side in sides.values():
                side.close()
    return rounds


def measure(store: Store, n: int, m: int, repeats: int, block: int) -> dict[str, list[Round]]:
    """One untimed warm-up round, then `repeats` rounds, flipping which side leads."""
    run_round(store, min(n, 50), min(m, 5), block, "raw")
    results: dict[str, list[Round]] = {side: [] for side in SIDES}
    for rep in range(repeats):
        rounds = run_round(store, n, m, block, "raw" if rep % 2 == 0 else "ours")
        for side in SIDES:
            results[side].append(rounds[side])
        print(f"  [{store.label}] round {rep + 1}/{repeats}: " + "   ".join(
            f"{side} reg {r.ops('register'):6.1f}/s life {r.ops('lifecycle'):6.1f}/s"
            for side, r in rounds.items()), flush=True)
    return results


# ---- reporting and profiling ---------------------------------------------------------------

def report(store: Store, results: dict[str, list[Round]]) -> list[str]:
    """Print one store's rows; return the phases that miss the target."""
    missed = []
    ours, raw = results["ours"], results["raw"]
    for phase in PHASES:
        med_ours = statistics.median(r.ops(phase) for r in ours)
        med_raw = statistics.median(r.ops(phase) for r in raw)
        ratio = med_ours / med_raw if med_raw else float("nan")
        paired = statistics.median(
            o.ops(phase) / r.ops(phase) for o, r in zip(ours, raw, strict=True)
        )
        cpu_ours = statistics.median(r.cpu_ms(phase) for r in ours)
        cpu_raw = statistics.median(r.cpu_ms(phase) for r in raw)
        meets = ratio >= TARGET
        if not meets:
            missed.append(phase)
        print(f"{store.label:<15} {phase:<10} {med_ours:>10.1f} {med_raw:>10.1f} {ratio:>6.2f} "
              f"{paired:>7.2f} {'yes' if meets else 'NO':>5}   {cpu_ours:>6.2f} {cpu_raw:>6.2f}")
    return missed


def profile(store: Store, side: str, n: int, m: int, top: int) -> None:
    """cProfile one side alone on a fresh store; top functions by own and by cumulative time."""
    with store.fresh(f"prof{side}") as settings:
        runner = SIDES[side](settings, n, m)
        try:
            profiler = cProfile.Profile()
            profiler.enable()
            runner.register(n)
            runner.steps(m * len(LIFECYCLE))
            profiler.disable()
        finally:
            runner.close()
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print(f"\n--- profile [{store.label}] {side} alone, n={n} m={m}, sorted by {key} ---")
        print("\n".join(lines[start:start + top + 1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("-n", type=int, default=2000, help="registrations (default 2000)")
    parser.add_argument("-m", type=int, default=200,
                        help="cases driven through the whole lifecycle (default 200)")
    parser.add_argument("-r", "--repeats", type=int, default=3,
                        help="timed rounds per store (default 3)")
    parser.add_argument("-b", "--block", type=int, default=50,
                        help="commands per side before switching to the other (default 50)")
    parser.add_argument("--sqlite-cipher", action="store_true",
                        help="also measure sqlite with AES encryption at rest")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, cProfile one run of each side alone per store")
    parser.add_argument("--profile-top", type=int, default=25)
    args = parser.parse_args()
    if args.n < 1 or not 0 <= args.m <= args.n or args.repeats < 1 or args.block < 1:
        parser.error("need n >= 1, 0 <= m <= n, repeats >= 1, block >= 1")

    stores: list[Store] = []
    skipped: list[str] = []
    if args.store in ("sqlite", "both"):
        stores.append(Store("sqlite", "sqlite", None))
        if args.sqlite_cipher:
            stores.append(Store("sqlite+cipher", "sqlite", AESCipher.create_key(32)))
    if args.store in ("postgres", "both"):
        why = postgres_unreachable()
        if why is None:
            stores.append(Store("postgres+cipher", "postgres", AESCipher.create_key(32)))
        else:
            skipped.append(
                f"postgres: SKIPPED - PostgreSQL not reachable at {PG['host']}:{PG['port']} "
                f"dbname={PG['dbname']} user={PG['user']} ({why})"
            )

    print(f"commands benchmark: n={args.n} registrations, m={args.m} cases x {len(LIFECYCLE)} "
          f"lifecycle commands ({' -> '.join(STEP_NAMES)}), one caller, one process")
    print(f"method: per store, one untimed warm-up round, then {args.repeats} timed round(s); in "
          "each round ours and raw run side by side on their own fresh empty stores (new temp "
          "sqlite file / new postgres schema), alternating blocks of "
          f"{args.block} commands in ABBA order (the leading side flips every round), so disk "
          "and machine noise hits both alike; ops/s = median over rounds; ratio = median ours / "
          "median raw; paired = median of per-round ratios; cpu = this process's CPU ms per "
          "command (median)")
    for line in skipped:
        print(line, flush=True)

    all_results: dict[str, dict[str, list[Round]]] = {}
    started = time.perf_counter()
    for store in stores:
        print(f"\n{store.label}: measuring ...", flush=True)
        all_results[store.label] = measure(store, args.n, args.m, args.repeats, args.block)

    if not all_results:
        print("nothing measured")
        return 0
    print()
    for label, results in all_results.items():
        ours, raw = results["ours"][-1].sizes, results["raw"][-1].sizes
        print(f"payload bytes stored [{label}]: ours Registered {ours['created']:.0f} "
              "lifecycle event mean "
              f"{ours.get('step_mean', 0):.0f} | raw Registered {raw['created']:.0f}, "
              f"lifecycle event mean {raw.get('step_mean', 0):.0f}")
    print()
    print(f"{'store':<15} {'phase':<10} {'ours ops/s':>10} {'raw ops/s':>10} {'ratio':>6} "
          f"{'paired':>7} {'>=' + str(TARGET):>5}   {'cpu ms/op':>13}")
    print(f"{'':<15} {'':<10} {'':>10} {'':>10} {'':>6} {'':>7} {'':>5}   {'ours':>6} {'raw':>6}")
    print("-" * 82)
    missed_any = {}
    for store in stores:
        missed = report(store, all_results[store.label])
        if missed:
            missed_any[store.label] = missed
    for line in skipped:
        print(line)
    print("-" * 82)
    if missed_any:
        print(f"target {TARGET} missed: " + "; ".join(
            f"{label} ({', '.join(phases)})" for label, phases in missed_any.items()))
    else:
        print(f"target met: every ratio >= {TARGET}")
    print(f"elapsed {time.perf_counter() - started:.1f}s")

    if args.profile:
        for store in stores:
            for side in SIDES:
                profile(store, side, args.n, args.m, args.profile_top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
