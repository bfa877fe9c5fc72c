"""The scheduler process: APScheduler 3 jobs; among several processes only one acts at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from petitions.bootstrap import Container
from projections.store import lock_key
from scheduler.jobs import (
    close_lapsed,
    remind_revisits,
    supervise_overdue,
    sweep_deadlines,
    warn_due_soon,
)

log = structlog.get_logger("scheduler")
LOCK_KEY = lock_key("petitions:scheduler")
# In this order: a miss is recorded before supervision looks for misses.
JOBS: dict[str, Callable[[Container], object]] = {
    "deadline_sweep": sweep_deadlines,
    "overdue_supervision": supervise_overdue,
    "due_soon_warnings": warn_due_soon,
    "revisit_reminders": remind_revisits,
    "close_lapsed": close_lapsed,
}


@contextmanager
def acting(container: Container) -> Iterator[bool]:
    """True while this process holds the scheduler lock (PostgreSQL advisory lock); else False."""
    settings = container.settings
    if settings.store == "sqlite":
        yield True  # the embedded mode is one process
        return
    with psycopg.connect(host=settings.postgres_host, port=settings.postgres_port,
                         dbname=settings.postgres_dbname, user=settings.postgres_user,
                         password=settings.postgres_password.get_secret_value(),
                         autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        held = bool(row and row[0])
        try:
            yield held
        finally:
            if held:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def run_once(container: Container) -> dict[str, object]:
    """Run every job once, if this process may act now; returns what each job did."""
    with acting(container) as held:
        if not held:
            log.info("scheduler_standing_by", reason="another scheduler holds the lock")
            return {}
        done: dict[str, object] = {}
        for name, job in JOBS.items():
            try:
                done[name] = job(container)
            except Exception as error:  # one failing job must not stop the others
                log.error("scheduler_job_failed", job=name, error_type=type(error).__name__,
                          error=str(error))
                done[name] = error
        return done


def run_forever(container: Container, minutes: int = 15) -> None:
    """Run the jobs every `minutes` (and at start, to catch up after downtime)."""
    scheduler = BlockingScheduler(timezone=str(container.petitions.policy.tz))
    scheduler.add_job(run_once, "interval", minutes=minutes, args=[container],
                      id="jobs", max_instances=1, coalesce=True, next_run_time=None)
    run_once(container)
    scheduler.start()


def start_in_process(container: Container, minutes: int = 15) -> BackgroundScheduler:
    """The embedded mode's scheduler: the same jobs in a background thread of the server."""
    scheduler = BackgroundScheduler(timezone=str(container.petitions.policy.tz))
    scheduler.add_job(run_once, "interval", minutes=minutes, args=[container], id="jobs",
                      max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler
