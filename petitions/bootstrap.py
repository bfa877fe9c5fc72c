"""The composition root: builds the application for every entry point from one Settings."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.calendar import WorkCalendar, load_schedules
from domain.deadlines import DEFAULT_RULES, ClockRule, DeadlinePolicy
from domain.directory import DirectoryService
from domain.service import PetitionService
from petitions import pg_store
from petitions.settings import Settings
from projections.case_list import CaseListProjection
from projections.runner import EmbeddedProjector, build_views, case_list_projection
from projections.store import Views

# On PostgreSQL, the library's factory with recorders that save in one round trip and are
# created one process at a time (petitions/pg_store.py).
_MODULES = {"sqlite": "eventsourcing.sqlite", "postgres": pg_store.FACTORY}


def event_store_env(settings: Settings, app_name: str = PetitionService.name) -> dict[str, str]:
    """The eventsourcing library's environment, set explicitly so it never falls back to memory."""
    env: dict[str, str] = {"PERSISTENCE_MODULE": _MODULES[settings.store]}
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # The SQLite recorder's table name is fixed, so each application gets its own file.
        filename = "events.sqlite3" if app_name == PetitionService.name else f"{app_name.lower()}.sqlite3"
        env["SQLITE_DBNAME"] = str(settings.data_dir / filename)
        env["SQLITE_LOCK_TIMEOUT"] = "10"
    else:
        env.update(
            POSTGRES_HOST=settings.postgres_host,
            POSTGRES_PORT=str(settings.postgres_port),
            POSTGRES_DBNAME=settings.postgres_dbname,
            POSTGRES_USER=settings.postgres_user,
            POSTGRES_PASSWORD=settings.postgres_password.get_secret_value(),
            POSTGRES_LOCK_TIMEOUT=str(settings.postgres_lock_timeout),
            POSTGRES_CONNECT_TIMEOUT="5",
            POSTGRES_POOL_SIZE=str(settings.postgres_pool_size),
        )
        if settings.postgres_schema:
            env["POSTGRES_SCHEMA"] = settings.postgres_schema
    if settings.cipher_key is not None:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = settings.cipher_key.get_secret_value()
    # Prefixed keys win over anything of the same name left in the process environment.
    prefix = app_name.upper() + "_"
    return {prefix + key: value for key, value in env.items()} | env


def deadline_policy(settings: Settings) -> DeadlinePolicy:
    """Clock rules and the calendar, with the administrator's holiday schedules."""
    overrides = load_schedules(settings.holidays_path) if settings.holidays_path.exists() else {}
    rules: dict[str, ClockRule] = {}
    for clock, counting in settings.clock_counting.items():
        if clock in DEFAULT_RULES:
            base = DEFAULT_RULES[clock]
            rules[clock] = ClockRule(base.days, counting, base.source, base.starts_at)
    revisit = rules.get("revisit", DEFAULT_RULES["revisit"])
    rules["revisit"] = ClockRule(
        settings.revisit_days, revisit.counting, revisit.source, revisit.starts_at
    )
    return DeadlinePolicy(WorkCalendar(overrides), rules, settings.timezone)


def build_service(
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None,
    receipt_key: bytes | None = None,
) -> PetitionService:
    """The petition service on the store the settings name, never on in-memory storage."""
    settings = settings or Settings()
    service = PetitionService(
        event_store_env(settings),
        policy=deadline_policy(settings),
        clock=clock,
        case_number_prefix=settings.case_number_prefix,
        receipt_key=receipt_key,
    )
    _check_store(service, settings)
    return service


def _check_store(app: Application[UUID], settings: Settings) -> None:
    expected = {"sqlite": SQLiteApplicationRecorder, "postgres": PostgresApplicationRecorder}
    if not isinstance(app.recorder, expected[settings.store]):
        raise RuntimeError(f"event store is {type(app.recorder).__name__}, not {settings.store}")


def build_directory(settings: Settings) -> DirectoryService:
    """Units and users, on the same kind of store as the petitions."""
    directory = DirectoryService(event_store_env(settings, DirectoryService.name))
    _check_store(directory, settings)
    return directory


def token_secret(settings: Settings) -> str:
    """The configured secret; in development, one made once and kept in the data directory."""
    if settings.token_secret is not None:
        return settings.token_secret.get_secret_value()
    path = settings.data_dir / "token_secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass
class Container:
    """Everything an entry point needs, built from one Settings."""

    settings: Settings
    petitions: PetitionService
    directory: DirectoryService
    token_secret: str
    views: Views
    projection: CaseListProjection
    # SQLite cannot be subscribed to: the embedded mode keeps views fresh in-process.
    projector: EmbeddedProjector | None

    def close(self) -> None:
        """Stop background work and release database connections."""
        if self.projector is not None:
            self.projector.stop()
        self.petitions.close()
        self.directory.close()
        self.views.close()


def views_env(settings: Settings) -> dict[str, str]:
    """The library environment of the views: a file beside the events, or the same database."""
    env = {k: v for k, v in event_store_env(settings).items()
           if not k.startswith(PetitionService.name.upper() + "_")}
    env.pop("CIPHER_TOPIC", None)  # views hold no events; their rows carry no personal data
    env.pop("CIPHER_KEY", None)
    if settings.store == "sqlite":
        env["SQLITE_DBNAME"] = str(settings.data_dir / "views.sqlite3")
    return env


def build(settings: Settings | None = None, clock: Callable[[], datetime] | None = None) -> Container:
    """The whole application for the server, the CLI and the tests."""
    settings = settings or Settings()
    secret = token_secret(settings)
    receipt_key = hmac.new(secret.encode(), b"petitions:receipt-codes", hashlib.sha256).digest()
    petitions = build_service(settings, clock, receipt_key)
    directory = build_directory(settings)
    views = build_views(views_env(settings))
    # The views key petitioners by a keyed hash of their ID number, never the number: the key
    # comes from the stable secret (the cipher key when set), under a label of its own.
    stable = settings.cipher_key.get_secret_value() if settings.cipher_key is not None else secret
    person_key = hmac.new(stable.encode(), b"petitions:person-hash", hashlib.sha256).digest()
    projection = case_list_projection(views, petitions, directory, person_key)
    projector = EmbeddedProjector(petitions, projection) if settings.store == "sqlite" else None
    return Container(settings, petitions, directory, secret, views, projection, projector)
