"""Scheduled jobs: they read due deadlines from the deadline index and call the service's commands."""

from __future__ import annotations

from datetime import UTC, date, datetime

import structlog

from domain.errors import CaseNotFound, Conflict
from petitions.bootstrap import Container
from projections.case_list import due_before

log = structlog.get_logger("scheduler")


def sweep_deadlines(container: Container, today: date | None = None) -> int:
    """Record every deadline that passed unmet, once; returns how many cases were checked.

    Safe to run twice or in two processes: a case records a miss only for a deadline still open,
    and two schedulers acting on one case at once conflict, and the loser looks again.
    After downtime it catches up on everything missed meanwhile: it asks for all due before today.
    """
    petitions = container.petitions
    if container.projector is not None:
        container.projector.catch_up()
    today = today or datetime.now(UTC).astimezone(petitions.policy.tz).date()
    checked, after = 0, ""
    while batch := due_before(container.views, today, after=after):
        for pid in batch:
            for _attempt in range(3):
                try:
                    petitions.record_missed_deadlines(pid, today)
                except Conflict:
                    continue  # the case changed meanwhile (or another scheduler acted): look again
                except CaseNotFound:
                    pass
                break
            checked += 1
        after = batch[-1]
    if container.projector is not None:
        container.projector.catch_up()
    log.info("deadline_sweep", today=today.isoformat(), cases=checked)
    return checked
