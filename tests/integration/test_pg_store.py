"""The one-round-trip PostgreSQL recorder: its own function per table, and commit order kept."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from petitions.bootstrap import Container, build
from petitions.pg_store import OneTripRecorder
from tests.integration.conftest import PG, settings_for
from tests.support import registration

pytestmark = pytest.mark.postgres


@pytest.fixture
def container(pg_schema: str, tmp_path: Path) -> Iterator[Container]:
    built = build(settings_for("postgres", tmp_path, pg_schema, cipher=True))
    yield built
    built.close()


def count(schema: str, table: str) -> int:
    with psycopg.connect(**PG) as conn:  # type: ignore[arg-type]
        row = conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()
    assert row is not None
    return int(row[0])


def test_two_applications_in_one_schema_keep_their_events_apart(container: Container,
                                                                 pg_schema: str) -> None:
    """Each recorder has a function of its own, so a unit and a petition land in their own tables."""
    assert isinstance(container.petitions.recorder, OneTripRecorder)
    container.directory.create_unit(code="county", name="县", level="county", parent=None, actor="t")
    receipt = container.petitions.register(**registration(location_unit="county"))
    assert receipt.notification_id is not None
    assert count(pg_schema, "petitionservice_events") == 1
    assert count(pg_schema, "directory_events") == 1
    with psycopg.connect(**PG) as conn:  # type: ignore[arg-type]
        names = {r[0] for r in conn.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = %s", (pg_schema,))}
    assert {"petitionservice_events_insert", "directory_events_insert"} <= names



def test_events_are_stored_as_given_byte_for_byte(container: Container) -> None:
    """Ids, versions, topics and states (any bytes, NUL included) read back exactly as inserted."""
    recorder = container.petitions.recorder
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [StoredEvent(originator_id=first, originator_version=1, topic="tests:Probe",
                          state=bytes(range(256)) * 40),
              StoredEvent(originator_id=first, originator_version=2, topic="tests:Probe2", state=b""),
              StoredEvent(originator_id=second, originator_version=7, topic="测试:探针", state=b"\x00")]
    ids = recorder.insert_events(events)
    assert ids is not None and len(ids) == 3 and list(ids) == sorted(ids)
    stored = [*recorder.select_events(first), *recorder.select_events(second)]
    assert [(e.originator_id, e.originator_version, e.topic, e.state) for e in stored] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in events]


def test_a_reader_tailing_the_log_never_sees_a_later_id_before_an_earlier_one(
        container: Container) -> None:
    """Writers in 8 threads; each read of new notifications is a gapless run after the last seen."""
    recorder = container.petitions.recorder
    stop = threading.Event()
    problems: list[str] = []

    def write() -> None:
        for _ in range(150):
            recorder.insert_events([StoredEvent(originator_id=uuid.uuid4(), originator_version=1,
                                                topic="tests:Probe", state=b"{}")])

    reached = [0]

    def tail() -> None:
        last = 0
        while not stop.is_set() or last < 1200:
            ids = [n.id for n in recorder.select_notifications(start=last + 1, limit=500)]
            if ids and ids != list(range(last + 1, last + 1 + len(ids))):
                problems.append(f"after {last} read {ids[:5]}...")
                return
            last = reached[0] = ids[-1] if ids else last

    writers = [threading.Thread(target=write) for _ in range(8)]
    reader = threading.Thread(target=tail)
    reader.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join(timeout=60)
    assert not reader.is_alive()
    assert problems == []
    assert reached[0] == recorder.max_notification_id() == 1200  # the reader read to the end


def test_processes_starting_together_on_a_fresh_schema_all_start(pg_schema: str,
                                                                 tmp_path: Path) -> None:
    """Server, projector and schedulers starting at once do not race creating tables and functions."""
    # One connection a pool (the lock holder may overflow by one), so four processes' start-up
    # fits beside whatever else holds connections to the server.
    settings = settings_for("postgres", tmp_path, pg_schema, cipher=True).model_copy(
        update={"postgres_pool_size": 1})
    built: list[Container] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def start_one() -> None:
        start.wait()
        try:
            built.append(build(settings))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(built) == 4
    finally:
        for container in built:
            container.close()
