"""The same petition service on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict
from domain.service import PetitionService
from tests.integration.conftest import PG
from tests.support import ID_NUMBER, FakeClock, Office, registration

MakeService = Callable[..., PetitionService]


def test_a_case_survives_a_restart_with_its_history_and_deadlines(make_service: MakeService) -> None:
    """A case driven to final reads back identically from a new service on the same store."""
    clock = FakeClock()
    office = Office(make_service(clock), clock)
    pid = office.case_in("final")
    before = office.service.get(pid)
    again = make_service(clock).get(pid)
    assert (again.status, again.version, again.deadlines) == ("final", before.version, before.deadlines)
    assert [h.type for h in make_service(clock).history(pid)][-1] == "RereviewDecided"


def test_reads_as_of_a_record_time_show_the_case_as_it_was(make_service: MakeService) -> None:
    """`as_of` returns the version recorded by that moment, by record time."""
    clock = FakeClock()
    office = Office(make_service(clock), clock)
    pid = office.case_in("assigned")
    between = datetime.now(UTC)
    office.do("accept", pid)
    service = make_service(clock)
    assert service.get_as_of(pid, between).status == "assigned"
    assert service.get_as_of(pid, datetime.now(UTC)).status == "accepted"


def test_case_numbers_stay_unique_under_concurrent_registration(make_service: MakeService) -> None:
    """Four services (as four processes) registering at once never share a case number."""
    services = [make_service() for _ in range(4)]
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    received = datetime(2026, 9, 1, 9, tzinfo=UTC)

    def work(service: PetitionService) -> None:
        try:
            for _ in range(15):
                receipt = service.register(**registration(received_at=received))
                with lock:
                    numbers.append(receipt.petition.case_number)
        except BaseException as error:  # report, do not hide, anything that went wrong
            errors.append(error)

    threads = [threading.Thread(target=work, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(numbers) == 60 and len(set(numbers)) == 60
    assert sorted(numbers) == [f"XF-2026-{n:06d}" for n in range(1, 61)]
    for number in numbers[:5]:
        assert services[0].get(number).case_number == number


def test_a_stale_write_is_refused_as_a_conflict(make_service: MakeService) -> None:
    """A save based on an old version is refused by the store; the service says so plainly."""
    clock = FakeClock()
    office = Office(make_service(clock), clock)
    pid = office.case_in("accepted")
    first, second = make_service(clock), make_service(clock)
    stale = second.get(pid)
    first.add_note(pid, actor="h1", text="走访", kind="investigation")
    stale.add_note(text="调解", kind="mediation", at=clock.now, actor="h2", now=clock.now)
    with pytest.raises(IntegrityError):
        second.save(stale)
    version = first.get(pid).version
    with pytest.raises(Conflict, match="changed since you loaded it"):
        second.add_note(pid, expected_version=version - 1, actor="h2", text="x", kind="other")


def test_concurrent_actions_on_one_case_never_lose_an_update(make_service: MakeService) -> None:
    """Eight clerks noting at once: each note is either recorded or refused as a conflict."""
    clock = FakeClock()
    office = Office(make_service(clock), clock)
    pid = office.case_in("accepted")
    services = [make_service(clock) for _ in range(8)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(services))

    def work(service: PetitionService, i: int) -> None:
        barrier.wait()
        try:
            service.add_note(pid, actor=f"h{i}", text=f"note {i}", kind="other")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=work, args=(s, i)) for i, s in enumerate(services)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 8 and outcomes.count("ok") >= 1
    notes = [h for h in office.service.history(pid) if h.type == "NoteAdded"]
    assert len(notes) == outcomes.count("ok") == office.service.get(pid).notes_count


def test_long_histories_are_loaded_from_snapshots(make_service: MakeService) -> None:
    """A case with hundreds of events is snapshotted, and reads back whole."""
    clock = FakeClock()
    office = Office(make_service(clock), clock)
    pid = office.case_in("accepted")
    for i in range(160):
        office.service.add_note(pid, actor="h1", text=f"note {i}", kind="other")
    service = make_service(clock)
    assert service.snapshots is not None
    assert next(iter(service.snapshots.get(pid, desc=True, limit=1))).originator_version == 150
    petition = service.get(pid)
    assert petition.version == 163 and petition.notes_count == 160


def _raw_dump(store: str, service: PetitionService, tmp_path: Path) -> bytes:
    """Everything the store holds, as bytes, the way an intruder with the files would see it."""
    if store == "sqlite":
        return b"".join(p.read_bytes() for p in (tmp_path / "data").glob("events.sqlite3*"))
    schema = service.env.get("POSTGRES_SCHEMA")
    result = subprocess.run(
        ["pg_dump", "-h", str(PG["host"]), "-U", str(PG["user"]), "-n", str(schema), str(PG["dbname"])],
        capture_output=True, check=False,
    )
    if result.returncode == 0:
        return result.stdout
    with psycopg.connect(**PG) as conn:  # type: ignore[arg-type]  # pg_dump absent: read every row
        rows = conn.execute(f"SELECT * FROM {schema}.petitionservice_events").fetchall()
    return b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                    for row in rows for v in row)


@pytest.mark.parametrize("cipher", [True, False])
def test_personal_data_is_not_in_plaintext_at_rest_with_the_cipher_on(
    make_service: MakeService, store: str, tmp_path: Path, cipher: bool
) -> None:
    """With the cipher on, a raw dump holds no ID number or phone; without it, it does."""
    if store == "postgres" and not cipher:
        pytest.skip("a PostgreSQL deployment always runs with the cipher (Settings refuses otherwise)")
    service = make_service(cipher=cipher)
    service.register(**registration(received_at=datetime.now(UTC) - timedelta(hours=1)))
    dump = _raw_dump(store, service, tmp_path)
    assert len(dump) > 0
    assert (ID_NUMBER.encode() in dump) is (not cipher)
    assert (b"13812345678" in dump) is (not cipher)
