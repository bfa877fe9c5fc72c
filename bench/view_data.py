"""Data sets for the view benchmarks (bench/views.py, bench/lag.py): stores, units, events, rows.

Real events: petitions are built with the domain objects in memory (the same commands the
service runs, with the office's deadline policy) and their stored events, encrypted when the
store has a cipher, are inserted in large batches through the library's recorder, so a rebuild
reads petition events of realistic shapes. The histories are interleaved: a case's steps come a
few thousand notifications apart, as they would when an office works many cases at once.

Bulk rows: for the scaling and sweep data sets the view rows are inserted directly (no events);
the scaling set's, each once in its final form, by COPY on PostgreSQL (`bulk_load`).
"""

from __future__ import annotations

import itertools
import operator
import random
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.cryptography import AESCipher
from psycopg.sql import SQL, Identifier

from domain import intake
from domain.case_numbers import case_id, format_case_number
from domain.petition import Petition, new_petition
from domain.service import PetitionService
from domain.validation import make_id_number
from petitions.bootstrap import Container, build
from petitions.settings import Settings
from projections.store import PostgresViews, Views
from tests.support import registration

PG = {"host": "127.0.0.1", "port": 5432, "dbname": "test", "user": "postgres"}
TOWNSHIPS, VILLAGES = 20, 10  # county → 20 townships → 10 villages each
CATEGORIES = ("land", "housing", "labour", "environment", "social_security", "law_enforcement")


@contextmanager
def bench_store(store: str, label: str) -> Iterator[Settings]:
    """Settings for a fresh store: a temporary data directory, or a PostgreSQL schema dropped after."""
    key = AESCipher.create_key(32)
    if store == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
        try:
            yield Settings(store="sqlite", data_dir=tmp / "data", cipher_key=key,
                           token_secret=secrets.token_urlsafe(32))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Settings(store="postgres", postgres_host=PG["host"], postgres_port=PG["port"],
                       postgres_dbname=PG["dbname"], postgres_user=PG["user"],
                       postgres_schema=schema, cipher_key=key, postgres_pool_size=8,
                       token_secret=secrets.token_urlsafe(32))
    finally:
        with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def township(t: int) -> str:
    return f"t{t:02d}"


def village(t: int, v: int) -> str:
    return f"t{t:02d}.v{v:02d}"


def township_weights() -> list[float]:
    """Townships differ in size: the last one is small (about 1% of the cases)."""
    weights = [1.0 + (t % 5) for t in range(TOWNSHIPS - 1)]
    return [*weights, sum(weights) / 99]


def create_units(container: Container) -> None:
    """The county, its townships and villages, in the directory the projection reads paths from."""
    directory = container.directory
    if "county" in directory.units(fresh=True):
        return
    directory.create_unit(code="county", name="县", level="county", parent=None, actor="bench")
    for t in range(TOWNSHIPS):
        directory.create_unit(code=township(t), name=f"乡镇{t}", level="township", parent="county",
                              actor="bench")
        for v in range(VILLAGES):
            directory.create_unit(code=village(t, v), name=f"村{t}.{v}", level="village",
                                  parent=township(t), actor="bench")


def path(unit: str) -> str:
    """A unit's path, as the projection writes it (/county/t03/t03.v07/)."""
    parts = unit.split(".")
    if unit == "county":
        return "/county/"
    return "/county/" + "/".join(".".join(parts[: i + 1]) for i in range(len(parts))) + "/"


# ---- real events -------------------------------------------------------------------------

Step = Callable[[Petition, datetime], None]


class EventWriter:
    """Builds petitions in memory and writes their stored events in large batches."""

    def __init__(self, service: PetitionService, seed: int = 2026) -> None:
        self.service, self.policy = service, service.policy
        self.rng = random.Random(seed)
        self.serial = 0
        self.pending: list[Any] = []
        self.written = 0
        base = registration()
        self.petitioner = intake.petitioners(base["petitioners"], 1)[0]
        self.base = {k: base[k] for k in ("channel", "summary", "content")}

    def petitioners(self) -> list[dict[str, Any]]:
        """One petitioner, a different person for each case but for 5% who petition again."""
        who = self.rng.randrange(self.serial) if self.rng.random() < 0.05 else self.serial
        born = date(1950, 1, 1) + timedelta(days=who % 20000)
        number = make_id_number(f"110105{born:%Y%m%d}{who // 20000 % 1000:03d}")
        return [{**self.petitioner, "id_number": number}]

    def register(self, at: datetime, location: str, receiving: str = "county",
                 urgent: bool = False, headcount: int = 1) -> Petition:
        """A registration received and recorded at `at`."""
        self.serial += 1
        number = format_case_number("XF", at.year, self.serial)
        policy = self.policy
        petition = new_petition(
            id=case_id(number), case_number=number, access_code_digest=secrets.token_hex(16),
            channel=self.rng.choice(intake.CHANNELS),
            received_at=at, receiving_unit=receiving, location_unit=location,
            petitioners=self.petitioners(), headcount=headcount,
            category=self.rng.choice(CATEGORIES), summary=self.base["summary"],
            content=self.base["content"], urgent=urgent, key_person=False, at=at,
            actor="reception1", triage=policy.start("triage", policy.office_date(at)),
            timezone=str(policy.tz), related_case_id=None, related_case_number=None)
        self.pending.extend(petition.collect_events())
        return petition

    def step(self, petition: Petition, command: str, at: datetime, **kwargs: Any) -> None:
        """Carry out a command on the petition in memory (as the service would)."""
        getattr(petition, command)(at=at, **kwargs)
        self.pending.extend(petition.collect_events())

    def flush(self, at_least: int = 0) -> None:
        """Insert the pending events (when there are at least `at_least`) in one transaction."""
        if not self.pending or len(self.pending) < at_least:
            return
        to_stored = self.service.mapper.to_stored_event
        self.service.recorder.insert_events([to_stored(e) for e in self.pending])
        self.written += len(self.pending)
        self.pending = []


def lifecycle(writer: EventWriter, petition: Petition, stage: int, at: datetime) -> bool:
    """Stage `stage` of a case's life (0 is registration, done already); False once it ends."""
    rng, policy, town = writer.rng, writer.policy, petition.location_unit.split(".")[0]
    roll = rng.random()
    if stage == 1:
        if roll < 0.03:
            writer.step(petition, "decline", at, reason="不属于信访事项", actor="reception1")
            return False
        writer.step(petition, "assign", at, unit=town, person=f"{town}.handler{rng.randrange(4)}",
                    mode="assign", actor="reception1", policy=policy)
    elif stage == 2:
        if roll < 0.05:
            writer.step(petition, "decline", at, reason="不予受理", actor=petition.responsible_person)
            return False
        writer.step(petition, "accept", at, actor=petition.responsible_person, policy=policy)
    elif stage == 3:
        writer.step(petition, "reply", at, opinion=rng.choice(("support", "explain", "not_support")),
                    text="经调查核实，答复如下。", actor=petition.responsible_person)
    elif stage == 4:
        writer.step(petition, "serve", at, actor=petition.responsible_person, policy=policy)
    elif stage == 5:
        satisfaction = "dissatisfied" if roll < 0.1 else "satisfied"
        writer.step(petition, "rate", at, satisfaction=satisfaction, actor="reception1")
        if satisfaction == "dissatisfied":
            return False
    elif stage == 6:
        writer.step(petition, "close", at, reason="信访人满意，办结", actor=petition.responsible_person,
                    policy=policy)
        return False
    return True


def write_history(service: PetitionService, events: int, chunk: int = 2000,
                  progress: Callable[[int], None] | None = None, seed: int = 2026) -> int:
    """About `events` petition events of cases received over the past ten years, interleaved in
    waves: each wave registers a chunk of cases and moves each earlier chunk one stage on (some
    steps come late, so deadlines are missed and warnings raised). Returns events written."""
    writer = EventWriter(service, seed)
    weights = township_weights()
    cases = max(1, int(events / 6.6))  # the lifecycle averages about 6.6 events a case
    start = datetime.now(UTC) - timedelta(days=3700)
    per_case = timedelta(days=3600) / cases  # ten years: about 40 a day at a million events
    latest = datetime.now(UTC) - timedelta(minutes=1)  # business time is never in the future
    waves: list[list[Petition]] = []
    registered = 0
    while registered < cases or any(waves):
        if registered < cases:
            n = min(chunk, cases - registered)
            batch = []
            for i in range(n):
                at = start + per_case * (registered + i)
                t = writer.rng.choices(range(TOWNSHIPS), weights)[0]
                location = village(t, writer.rng.randrange(VILLAGES))
                batch.append(writer.register(at, location, urgent=writer.rng.random() < 0.01,
                                             headcount=60 if writer.rng.random() < 0.005 else 1))
            registered += n
            waves.insert(0, batch)
        else:
            waves.insert(0, [])
        for age, wave in enumerate(waves[1:], start=1):
            still = []
            for petition in wave:
                late = 25 if writer.rng.random() < 0.05 else 0
                at = min(petition.last_at + timedelta(days=2 + late + writer.rng.random() * 5),
                         latest)
                if lifecycle(writer, petition, age, at):
                    still.append(petition)
            wave[:] = still
        while waves and not waves[-1]:
            waves.pop()
        writer.flush(at_least=5000)
        if progress is not None:
            progress(writer.written)
    writer.flush()
    return writer.written


def build_container(settings: Settings) -> Container:
    """The application on the benchmark's store, with its units."""
    container = build(settings)
    create_units(container)
    return container


def bulk_write(views: Views, sql: str, rows: Iterator[dict[str, Any]], batch: int = 20000) -> int:
    """Insert rows with one statement, many at a time (executemany), outside any projection."""
    done, chunk = 0, []
    for row in rows:
        chunk.append((sql, row))
        if len(chunk) >= batch:
            views.write(None, chunk)
            done += len(chunk)
            chunk = []
    if chunk:
        views.write(None, chunk)
        done += len(chunk)
    return done


def bulk_load(views: Views, table: str, rows: Iterable[dict[str, Any]], batch: int = 50_000) -> int:
    """Insert rows as they are (keys are the table's columns), then fresh planner statistics:
    COPY and VACUUM ANALYZE on PostgreSQL (a table at rest, its visibility map set), executemany
    in large batches and ANALYZE on SQLite. Outside any projection; returns rows inserted."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return 0
    columns = tuple(first)
    values, done = operator.itemgetter(*columns), 1
    if isinstance(views, PostgresViews):
        name = SQL("{}.{}").format(Identifier(views.datastore.schema), Identifier(table))
        copy_sql = SQL("COPY {} ({}) FROM STDIN").format(name, SQL(", ").join(map(Identifier, columns)))
        with views.datastore.transaction(commit=True) as cursor, cursor.copy(copy_sql) as copy:
            copy.write_row(values(first))
            for row in it:
                copy.write_row(values(row))
                done += 1
        with views.datastore.get_connection() as conn:  # the pool's connections autocommit
            conn.execute(SQL("VACUUM (ANALYZE) {}").format(name))
        return done
    insert = (f"INSERT INTO {{s}}{table} ({', '.join(columns)})"
              f" VALUES ({', '.join(f'%({c})s' for c in columns)})")
    done = bulk_write(views, insert, itertools.chain([first], it), batch)
    views.write(None, [(f"ANALYZE {table}", {})])
    return done
