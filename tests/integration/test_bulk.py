"""The rebuild in memory (projections/bulk.py) leaves every view table as one-by-one projection does."""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import CanCreateTimestamp
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier
from structlog.testing import capture_logs

from domain.errors import PetitionError
from domain.petition_state import OPEN_STATUSES
from domain.rules import RULES_TOPICS, WarningRules
from projections.bulk import BulkRebuild, RebuildFailed
from projections.bulk_cases import CaseHistories
from projections.bulk_workers import Share, bounds, decoded, last_versions, select_share, work
from projections.runner import SQLiteCaseList
from projections.store import Loader, Views
from tests.integration.test_batch import batch_sizes
from tests.integration.test_board_rules import Board, MakeService
from tests.support import STEPS

LOCATIONS = ("town1.v1", "town1.v1.g1", "town1.v2", "town1", "town2", "county")
RECEIVING = ("county", "town1", "town2", "town1.v1")
PATH = ("assigned", "accepted", "replied", "served", "review_requested", "review_decided",
        "served_after_review", "rereview_requested", "final")


def everything(views: Views) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every view table, as text, in a fixed order."""
    return {table: sorted(tuple(str(v) for v in r.values())
                          for r in views.query(f"SELECT * FROM {{s}}{table}"))
            for table in SQLiteCaseList.tables}


def index_names(views: Views) -> set[str]:
    """The secondary indexes the view store has now."""
    if isinstance(views, SQLiteCaseList):
        rows = views.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    else:
        rows = views.query("SELECT indexname AS name FROM pg_indexes WHERE schemaname = %(schema)s",
                           {"schema": views.datastore.schema})
    return {row["name"] for row in rows}


def busy_office(b: Board, seed: int) -> None:
    """A few months of an office: letters received days before they are registered, the same
    people and matters again, groups, key persons, visits above the competent level, cases taken
    to every status and to final, deadlines missed and flagged, and the settings changed twice."""
    rng = random.Random(seed)
    cases: list[tuple[UUID, int, float]] = []  # (case, how far along PATH, its pace)
    for day in range(40):
        for _ in range(rng.randint(0, 4)):
            fields: dict[str, Any] = {
                "location_unit": rng.choice(LOCATIONS), "receiving_unit": rng.choice(RECEIVING),
                "category": rng.choice(("noise", "water", "land")),
                "channel": rng.choice(("visit", "visit", "letter", "online")),
                "headcount": rng.choice((1, 1, 1, 4, 6, 60)), "urgent": rng.random() < 0.1,
                "key_person": rng.random() < 0.1,
                "received_at": b.clock.now - timedelta(days=rng.choice((0, 0, 0, 2, 5)))}
            if cases and rng.random() < 0.15:
                ended = [pid for pid, step, _ in cases if step == len(PATH)]
                every = [pid for pid, _, _ in cases]
                fields["same_matter_as"] = rng.choice(ended if ended and rng.random() < 0.7 else every)
            try:
                cases.append((b.register(rng.randint(0, 12), **fields), 0, rng.choice((0.05, 0.6))))
            except PetitionError:
                continue
        for i, (pid, step, pace) in enumerate(cases):
            cases[i] = (pid, advance(b, rng, pid, step, pace), pace)
        if day % 9 == 8:
            for pid, _, _ in cases:
                b.service.record_missed_deadlines(pid)
                b.service.notice_approaching(pid, days=3, share=0.2)
        if day == 15:
            b.service.set_warning_rules(WarningRules(group_orange=4, hotspot_count=2, hotspot_days=5,
                                                    repeat_days=10), actor="admin")
        if day == 30:
            b.service.set_warning_rules(WarningRules(group_orange=6, group_red=10), actor="admin")
        b.clock.advance(days=1)


def advance(b: Board, rng: random.Random, pid: UUID, step: int, pace: float) -> int:
    """Perhaps take the case one step along the path (or decline it); its step after."""
    try:
        if step < len(PATH) and rng.random() < pace:
            command, kwargs = STEPS[PATH[step]]
            b.office.do(command, pid, **kwargs)
            return step + 1
        if step == 0 and rng.random() < 0.03:
            b.office.do("decline", pid, actor="reception1", reason="不属于信访事项")
            return len(PATH)
    except PetitionError:
        return len(PATH)  # ended another way (a final matter again is declined at once): leave it
    return step


@pytest.mark.parametrize("seed", [1, 2])
def test_a_rebuild_in_memory_gives_every_table_one_by_one_projection_gives(
        make_service: MakeService, store: str, tmp_path: Path, seed: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeat, after-final, hotspots joined and ended in villages and townships, regrouping on
    settings changes, key persons, facts and deadlines: row for row the same (and in batches)."""
    b = Board(make_service, tmp_path)
    busy_office(b, seed)
    events = b.service.recorder.max_notification_id()
    assert b.projector.rebuild(batch=1, bulk=False) == events
    one_by_one = everything(b.projector.projection.view)
    board = one_by_one["warning_board"]
    rules = {row[2] for row in board}
    assert {"repeat", "after_final", "hotspot", "group", "overdue", "skip_level"} <= rules, rules
    assert any(int(row[10]) > 1 for row in board if row[2] == "hotspot"), "no hotspot was joined"
    assert any(int(row[10]) < 0 for row in board), "no warning raised by a settings change"
    assert one_by_one["key_person_board"] and one_by_one["case_ended"]
    assert b.projector.rebuild() == events
    assert everything(b.projector.projection.view) == one_by_one
    # The cases shared out among worker processes, the registrations decided here: the same rows.
    monkeypatch.setattr(BulkRebuild, "parallel_from", 1)
    monkeypatch.setattr(BulkRebuild, "chunk", 7)  # facts sent and inserted while the rest goes on
    monkeypatch.setattr(BulkRebuild, "page", 20)  # arrivals merged across many reads of each worker
    shared, calls = BulkRebuild._shared, []

    def counted(self: BulkRebuild, *args: Any) -> Any:
        calls.append(1)
        return shared(self, *args)

    monkeypatch.setattr(BulkRebuild, "_shared", counted)
    add, added = Loader.add, []

    def adding(self: Loader, table: str, rows: Any) -> None:
        added.append(table)
        add(self, table, rows)

    monkeypatch.setattr(Loader, "add", adding)
    b.projector.workers = 3
    assert b.projector.rebuild() == events and calls == [1]
    # The rows went in as they came, a few at a time (which worker sent them when: below).
    assert set(added) >= {"responsibility_facts", "case_list", "deadline_index", "warning_board"}
    assert added.count("responsibility_facts") >= 3 and added.count("case_list") >= 3
    assert added.count("petitioner_index") >= 3  # final as decided here: added 7 at a time too
    assert index_names(b.projector.projection.view) >= {name for name, _, _ in SQLiteCaseList._indexes()}
    assert everything(b.projector.projection.view) == one_by_one
    # Batches read the committed rows and keep their own: the same rows again.
    assert b.projector.rebuild(batch=9, bulk=False) == events
    assert everything(b.projector.projection.view) == one_by_one


def test_a_rebuild_in_memory_that_fails_names_the_event_and_writes_nothing(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Loud, never silent: the failing event is logged, the tables stay empty at position 0, and a
    catch-up from there makes what a clean rebuild makes."""
    b = Board(make_service, tmp_path)
    busy_office(b, 3)
    view = b.projector.projection.view
    assert b.projector.rebuild() > 0
    clean = everything(view)
    seen = 0
    original = CaseHistories.event

    def failing(self: CaseHistories, event: Any, position: int, pid: str | None = None) -> Any:
        nonlocal seen
        seen += 1
        if seen == 50:
            raise ValueError("cannot project this event")
        return original(self, event, position, pid)

    CaseHistories.event = failing  # type: ignore[method-assign]
    try:
        with capture_logs() as logs, pytest.raises(ValueError, match="cannot project"):
            b.projector.rebuild()
    finally:
        CaseHistories.event = original  # type: ignore[method-assign]
    [failed] = [e for e in logs if e["event"] == "projection_failed_on_event"]
    assert failed["notification_id"] == 50
    assert view.position(b.service.name) == 0
    assert all(rows == [] for rows in everything(view).values())
    restarted = b.projector_on_the_same_views()
    assert restarted.catch_up() == b.service.recorder.max_notification_id()
    assert everything(view) == clean


def test_a_shared_rebuild_whose_worker_fails_names_the_event_and_writes_nothing(
        make_service: MakeService, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker process that cannot project an event (here: a stored event made unreadable) stops
    the rebuild with the notification's id; the other worker is stopped, nothing is written."""
    b = Board(make_service, tmp_path)
    busy_office(b, 6)
    view, recorder = b.projector.projection.view, b.service.recorder
    broken = 40
    table = recorder.events_table_name  # type: ignore[attr-defined]
    with recorder.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
        if store == "sqlite":
            c.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (b"not an event", broken))
        else:
            c.execute(SQL("UPDATE {0}.{1} SET state = %s WHERE notification_id = %s").format(
                Identifier(recorder.datastore.schema), Identifier(table)),  # type: ignore[attr-defined]
                (b"not an event", broken))
    monkeypatch.setattr(BulkRebuild, "parallel_from", 1)
    b.projector.workers = 2
    with pytest.raises(RebuildFailed, match=f"the rebuild failed on notification {broken} "):
        b.projector.rebuild()
    assert multiprocessing.active_children() == []
    assert view.position(b.service.name) == 0
    assert all(rows == [] for rows in everything(view).values())


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_load_left_idle_while_the_history_is_replayed_still_commits(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """The load's transaction opens before the replay: PostgreSQL must not end the session for
    sitting idle in it (the library sets a few seconds' limit on every connection)."""
    b = Board(make_service, tmp_path)
    b.register(1, location_unit="town1.v1", category="noise")
    view = b.projector.projection.view
    [limit] = view.query("SELECT setting::int AS ms FROM pg_settings"
                         " WHERE name = 'idle_in_transaction_session_timeout'")
    assert limit["ms"], "the connections have no idle limit: nothing to outlast"
    with view.loading() as loader:
        time.sleep(limit["ms"] / 1000 + 1)
        loader.finish(Tracking(b.service.name, 1), {})
    assert view.position(b.service.name) == 1


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_load_on_postgres_leaves_readers_reading_and_puts_back_every_index(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """The rows go into a stand-in without indexes: a reader of the table meanwhile is not
    locked out and reads what was committed; after the commit the table has the rows and the
    same indexes, keys and unique columns as before, under the same names."""
    b = Board(make_service, tmp_path)
    busy_office(b, 3)
    view = b.projector.projection.view
    assert b.projector.rebuild() > 0
    rows = view.query("SELECT * FROM {s}case_list")
    schema = view.datastore.schema
    definitions = ("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s"
                   " ORDER BY indexname")
    constraints = ("SELECT conname, contype, pg_get_constraintdef(c.oid) AS definition"
                   " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
                   " WHERE n.nspname = %(schema)s ORDER BY conname")
    indexes, keys = view.query(definitions, {"schema": schema}), view.query(constraints, {"schema": schema})
    view.reset(b.service.name)
    with view.loading() as loader:
        loader.add("case_list", [tuple(r.values()) for r in rows])
        loader.complete("case_list")
        with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres",
                             autocommit=True) as reader:
            reader.execute("SET lock_timeout = '2s'")
            seen = reader.execute(SQL("SELECT count(*) FROM {0}.case_list").format(
                Identifier(schema))).fetchone()
        loader.finish(Tracking(b.service.name, 1), {})
    assert seen == (0,)  # not locked out: the committed (empty) table
    assert sorted(tuple(map(str, r.values())) for r in view.query("SELECT * FROM {s}case_list")) == \
        sorted(tuple(map(str, r.values())) for r in rows)
    assert view.query(definitions, {"schema": schema}) == indexes
    assert view.query(constraints, {"schema": schema}) == keys
    assert any(k["contype"] == "p" for k in keys) and any(k["contype"] == "u" for k in keys)


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_loads_at_once_on_postgres_take_turns_and_the_second_fails_on_the_first_position(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Two processes catching up on empty views at once: the second load waits for the first
    (they would make the same stand-ins and deadlock), then fails on the position the first
    recorded, which EmbeddedProjector.catch_up takes as "another projector loaded them"."""
    b = Board(make_service, tmp_path)
    busy_office(b, 2)
    view = b.projector.projection.view
    assert b.projector.rebuild() > 0
    rows = [tuple(r.values()) for r in view.query("SELECT * FROM {s}case_list")]
    view.reset(b.service.name)
    started, failed = threading.Event(), []

    def second() -> None:
        started.wait()
        try:
            with view.loading() as loader:
                loader.add("case_list", rows)
                loader.finish(Tracking(b.service.name, 1), {})
        except Exception as error:
            failed.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    with view.loading() as loader:
        loader.add("case_list", rows)
        started.set()
        time.sleep(1.5)  # the second has begun its load meanwhile (PostgreSQL finds deadlocks after 1 s)
        loader.finish(Tracking(b.service.name, 1), {})
    thread.join()
    assert [type(e) for e in failed] == [IntegrityError]
    assert view.position(b.service.name) == 1
    assert len(view.query("SELECT * FROM {s}case_list")) == len(rows)


def test_empty_views_are_made_at_once_then_followed_event_by_event(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """A first start (or an upgrade that emptied the views) loads them in memory in one go; what
    comes after is projected as it comes, and the tables equal one-by-one projection."""
    b = Board(make_service, tmp_path)
    busy_office(b, 4)
    projection = b.projector.projection
    batches = batch_sizes(projection)
    events = b.service.recorder.max_notification_id()
    assert b.projector.catch_up() == events and batches == []
    if store == "sqlite":  # the page cache the load took is given back to the pooled connection
        assert projection.view.query("PRAGMA cache_size")[0]["cache_size"] == -2000
    b.register(1, location_unit="town1.v1", category="noise")
    assert b.projector.catch_up() == 1 and batches == [1]
    loaded_then_followed = everything(projection.view)
    b.projector.rebuild(batch=1, bulk=False)
    assert everything(projection.view) == loaded_then_followed


def test_the_workers_of_a_rebuild_share_the_cases_and_all_read_the_settings(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Each case's events go to one worker, every case's to some worker, and the settings events
    to all of them; the store itself leaves out the other shares' events."""
    b = Board(make_service, tmp_path)
    busy_office(b, 5)
    recorder, topics = b.service.recorder, tuple(b.projector.projection.topics)
    end = recorder.max_notification_id() or 0
    everything_read = recorder.select_notifications(start=1, limit=end, topics=list(topics))
    settings = {n.id for n in everything_read if n.topic in RULES_TOPICS}
    assert len(settings) == 2

    def share(index: int) -> list[Any]:
        got: list[Any] = []
        share = Share({}, {}, topics, end, index, 3, page=9)
        for start in range(1, end + 1, share.span):
            got += select_share(recorder, share, start)
        return got

    shares = [share(index) for index in range(3)]
    cases = [{UUID(str(n.originator_id)) for n in got if n.id not in settings} for got in shares]
    assert all(len(c) >= 5 for c in cases), [len(c) for c in cases]
    assert not (cases[0] & cases[1] or cases[1] & cases[2] or cases[0] & cases[2])
    assert sorted(n.id for got in shares for n in got if n.id not in settings) == \
        sorted(n.id for n in everything_read if n.id not in settings)
    assert all({n.id for n in got} >= settings for got in shares)
    if isinstance(recorder, SQLiteApplicationRecorder):  # the shares compare the ids as stored
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT DISTINCT originator_id FROM {recorder.events_table_name}")
            stored = [r[0] for r in c.fetchall()]
        assert stored and all(re.fullmatch("[0-9a-f]{32}", i) for i in stored), stored[:3]
    by_id = {n.id: n for n in everything_read}
    assert all(n.state == by_id[n.id].state and n.topic == by_id[n.id].topic
               and UUID(str(n.originator_id)) == by_id[n.id].originator_id for got in shares for n in got)


def test_a_worker_sends_the_rows_of_cases_that_ended_for_good_while_it_replays_the_rest(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """A case whose last event is projected and that no longer stands open is let go at once: its
    rows are sent before the worker's history is done, each case's once, and only such cases'."""
    b = Board(make_service, tmp_path)
    busy_office(b, 3)
    recorder, projection = b.service.recorder, b.projector.projection
    assert projection.units is not None
    end = recorder.max_notification_id() or 0
    share = Share(dict(b.service.env), dict(projection.units()), tuple(projection.topics), end, 0, 2,
                  page=9, chunk=6, person_key=projection.person_key, nice=0)  # (run here)
    everything_read = recorder.select_notifications(start=1, limit=end, topics=list(projection.topics))
    (low, high), lasts = bounds(share), dict[str, int]()
    for n in everything_read:  # the share's cases, and the version of each one's last event
        if n.topic not in RULES_TOPICS and low <= UUID(str(n.originator_id)) <= high:
            lasts[str(n.originator_id)] = max(lasts.get(str(n.originator_id), 0), n.originator_version)
    assert len(lasts) >= 5
    stored = {str(UUID(str(k))): v for k, v in last_versions(recorder, share).items()}
    assert {k: v for k, v in stored.items() if k in lasts} == lasts

    class Pipe:
        def __init__(self) -> None:
            self.messages: list[Any] = []

        def send_bytes(self, data: Any) -> None:
            self.messages.append(decoded(data))

        def close(self) -> None:
            """Nothing to let go: the messages stay here to be read."""

    pipe = Pipe()
    work(share, pipe)  # type: ignore[arg-type]
    kinds = [m[0] for m in pipe.messages]
    assert kinds[-1] == "done", pipe.messages[-1]
    replayed = kinds.index("cases")
    early = [r for m in pipe.messages[:replayed] if m[:2] == ("rows", "case_list") for r in m[2]]
    listed = [r[0] for m in pipe.messages if m[:2] == ("rows", "case_list") for r in m[2]]
    assert len(early) >= 6, "no case was let go while the history was replayed"
    assert sorted(listed) == sorted(lasts) and len(set(listed)) == len(listed)
    assert all(r[2] not in OPEN_STATUSES for r in early), [r[2] for r in early]
    ended = [r[0] for m in pipe.messages if m[:2] == ("rows", "case_ended") for r in m[2]]
    assert len(set(ended)) == len(ended) and {r[0] for r in early} <= set(ended)


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_rebuild_by_hand_refuses_while_a_projector_keeps_the_views(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Emptying the views under a running `petitions projector` would interleave its rows with the
    rebuild's: the command says so and changes nothing; once the projector stops, it rebuilds."""
    b = Board(make_service, tmp_path)
    busy_office(b, 5)
    view = b.projector.projection.view
    assert b.projector.catch_up() > 0
    before = everything(view)
    settings = b.service.env
    env = {**os.environ, "PETITIONS_STORE": "postgres", "COLUMNS": "200",
           **{f"PETITIONS_POSTGRES_{k}": settings[f"POSTGRES_{k}"]
              for k in ("HOST", "PORT", "DBNAME", "USER", "SCHEMA")},
           "PETITIONS_CIPHER_KEY": settings["CIPHER_KEY"], "PETITIONS_TOKEN_SECRET": "t" * 43}

    def rebuild() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "petitions", "views", "rebuild"], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    with view.sole_projector(wait=False) as sole:  # as `petitions projector` holds it
        assert sole
        with b.projector_on_the_same_views().projection.view.sole_projector(wait=False) as other:
            assert not other
        refused = rebuild()
        standby = subprocess.Popen([sys.executable, "-m", "petitions", "projector"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        assert standby.poll() is None  # waiting its turn
        standby.send_signal(signal.SIGTERM)
        out, err = standby.communicate(timeout=20)  # a standby stops when told to
        assert standby.returncode == 0 and "waiting" in out and "following" not in out, out + err
    assert refused.returncode == 1 and "stop it" in refused.stdout, refused.stdout + refused.stderr
    assert everything(view) == before
    done = rebuild()
    assert done.returncode == 0 and "rebuilt" in done.stdout, done.stdout + done.stderr
    after = everything(view)  # by the deployment's own unit tree and key, which this test's are not
    assert [r[:3] for r in after["case_list"]] == [r[:3] for r in before["case_list"]]
    assert len(after["responsibility_facts"]) == len(before["responsibility_facts"])


def test_two_projectors_taking_turns_decide_as_one_would(
        make_service: MakeService, store: str, tmp_path: Path) -> None:
    """Each projector keeps what the cross-case rules read between its batches only while no one
    else wrote: taking turns on one hotspot and one repeating petitioner, they make the rows a
    single projector makes."""
    b = Board(make_service, tmp_path)
    other = b.projector_on_the_same_views()
    b.register(1)
    assert b.projector.catch_up() == 1  # the first: empty views, loaded at once
    for i in range(12):
        b.register(i % 3, location_unit="town1.v1", category="noise")
        b.clock.advance(hours=6)
        assert (b.projector if i % 3 else other).catch_up() == 1
    taken_in_turns = everything(b.projector.projection.view)
    assert any(int(row[10]) > 2 for row in taken_in_turns["warning_board"] if row[2] == "hotspot")
    b.projector.rebuild(batch=1, bulk=False)
    assert everything(b.projector.projection.view) == taken_in_turns


def test_a_petition_stored_after_a_later_one_still_joins_the_hotspot_standing_when_recorded(
        make_service: MakeService, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record times may cross the order events are stored in (concurrent writers, group commit):
    Y is recorded just after a hotspot's planned end and stored first, X just before it and
    stored after. What the rules keep between batches must not hide the hotspot from X."""
    import projections.case_list as case_list_module

    b = Board(make_service, tmp_path)
    record = {"at": b.clock.now}
    monkeypatch.setattr(CanCreateTimestamp, "create_timestamp",
                        staticmethod(lambda: record["at"].astimezone(UTC)))
    b.service.set_warning_rules(WarningRules(hotspot_count=2, hotspot_days=2), actor="admin")
    for who in (1, 2):  # a hotspot, planned to end two days after the second
        record["at"] += timedelta(minutes=1)
        b.register(who, location_unit="town1.v1", category="noise")
    b.projector.catch_up()
    ends = record["at"] + timedelta(days=2)
    record["at"] = ends - timedelta(hours=3)
    b.register(3, location_unit="town2", category="water")
    b.projector_on_the_same_views().catch_up()  # another writer: the next batch starts afresh
    record["at"] = ends + timedelta(milliseconds=1)  # Y
    b.clock.advance(days=2)
    b.register(4, location_unit="town1.v1", category="noise")
    assert b.projector.catch_up() == 1
    record["at"] = ends - timedelta(milliseconds=1)  # X
    b.register(5, location_unit="town1.v1", category="noise")
    assert b.projector.catch_up() == 1
    followed = everything(b.projector.projection.view)
    assert len(followed["hotspots"]) == 1, followed["hotspots"]  # X joined; Y raised none
    monkeypatch.setattr(case_list_module, "KEEP_READS", -1)  # every batch reads afresh
    b.projector.rebuild(batch=1, bulk=False)
    assert everything(b.projector.projection.view) == followed
    b.projector.rebuild()
    assert everything(b.projector.projection.view) == followed
