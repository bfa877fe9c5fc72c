"""Real stores for integration tests: a SQLite file, and PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher

from domain.service import PetitionService
from petitions.bootstrap import Container, build, build_service
from petitions.settings import Settings
from projections.runner import EmbeddedProjector
from tests.support import FakeClock

PG = {"host": "127.0.0.1", "port": 5432, "dbname": "test", "user": "postgres"}
REQUIRE_PG = os.environ.get("PETITIONS_REQUIRE_POSTGRES", "") not in ("", "0", "false")

StoreFactory = Callable[..., PetitionService]


def postgres_or_skip() -> None:
    """Skip with the reason when no server answers, unless CI demands one (then fail)."""
    try:
        psycopg.connect(**PG, connect_timeout=3).close()  # type: ignore[arg-type]
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL not reachable at {PG['host']}:{PG['port']}/{PG['dbname']}: {error}"
        if REQUIRE_PG:
            pytest.fail(reason + " (PETITIONS_REQUIRE_POSTGRES is set)")
        pytest.skip(reason)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards."""
    postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def settings_for(store: str, tmp_path: Path, schema: str | None, cipher: bool) -> Settings:
    """Settings for a store in a temporary directory or schema."""
    key = AESCipher.create_key(32) if cipher or store == "postgres" else None
    if store == "sqlite":
        return Settings(store="sqlite", data_dir=tmp_path / "data", cipher_key=key)
    return Settings(
        store="postgres", postgres_host=PG["host"], postgres_port=PG["port"],
        postgres_dbname=PG["dbname"], postgres_user=PG["user"], postgres_schema=schema or "",
        cipher_key=key, token_secret=secrets.token_urlsafe(32),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each integration test runs on both stores."""
    return str(request.param)


@pytest.fixture
def make_service(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., PetitionService]]:
    """Builds services on one shared store (several, to act as separate processes)."""
    schema = request.getfixturevalue("pg_schema") if store == "postgres" else None
    built: list[PetitionService] = []
    fixed: dict[str, Settings] = {}

    def make(clock: FakeClock | None = None, cipher: bool = False) -> PetitionService:
        settings = fixed.setdefault("s", settings_for(store, tmp_path, schema, cipher))
        service = build_service(settings, clock=clock)
        built.append(service)
        return service

    yield make
    for service in built:
        service.close()


@pytest.fixture
def schedulers(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[list[Container]]:
    """Two containers (as two scheduler processes) on one store, with one clock the test moves,
    and a county with one township."""
    schema = request.getfixturevalue("pg_schema") if store == "postgres" else None
    settings, clock = settings_for(store, tmp_path, schema, cipher=False), FakeClock()
    built = [build(settings, clock=clock) for _ in range(2)]
    directory = built[0].directory
    directory.create_unit(code="county", name="青山县", level="county", parent=None, actor="t")
    directory.create_unit(code="town1", name="东镇", level="township", parent="county", actor="t")
    yield built
    for container in built:
        container.close()


def catch_up(container: Container) -> None:
    """Bring the views up to date (the projector's work on PostgreSQL)."""
    (container.projector or EmbeddedProjector(container.petitions, container.projection)).catch_up()
