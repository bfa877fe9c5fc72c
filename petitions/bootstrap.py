"""The composition root: builds the application for every entry point from one Settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.calendar import WorkCalendar, load_schedules
from domain.deadlines import DEFAULT_RULES, ClockRule, DeadlinePolicy
from domain.service import PetitionService
from petitions.settings import Settings

_MODULES = {"sqlite": "eventsourcing.sqlite", "postgres": "eventsourcing.postgres"}


def event_store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing library's environment, set explicitly so it never falls back to memory."""
    env: dict[str, str] = {"PERSISTENCE_MODULE": _MODULES[settings.store]}
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env["SQLITE_DBNAME"] = str(settings.data_dir / "events.sqlite3")
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
    prefix = PetitionService.name.upper() + "_"
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
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None
) -> PetitionService:
    """The petition service on the store the settings name, never on in-memory storage."""
    settings = settings or Settings()
    service = PetitionService(
        event_store_env(settings),
        policy=deadline_policy(settings),
        clock=clock,
        case_number_prefix=settings.case_number_prefix,
    )
    expected = _MODULES[settings.store]
    if not type(service.recorder).__module__.startswith(expected):
        raise RuntimeError(f"event store is {type(service.recorder).__module__}, not {expected}")
    return service
