"""Scheduled jobs: each asks the deadline index which cases need acting on and gives the service
one command per case. Every command acts at most once (the case remembers what was done), so a
job is safe to run twice, after downtime (it asks about everything up to today), or in two
processes at once (the second save of one case conflicts, and the loser looks again)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import structlog

from domain.errors import CaseNotFound, Conflict, PetitionError
from domain.scheduled_commands import Outcome
from petitions.bootstrap import Container
from projections import deadline_index as index
from projections.store import Views

log = structlog.get_logger("scheduler")
Finder = Callable[[Views, str], list[str]]  # the next page of deadline keys after a key


def _today(container: Container, today: date | None) -> date:
    petitions = container.petitions
    return today or petitions.policy.office_date(petitions.clock())  # the service's clock


def _each(container: Container, job: str, find: Finder, act: Callable[[str], Outcome],
          today: date) -> int:
    """Run `act` on every case `find` names; returns how many cases it recorded something on."""
    if container.projector is not None:
        container.projector.catch_up()
    acted, after, seen = 0, "", set()
    while batch := find(container.views, after):
        for pid in (index.case_of(key) for key in batch):
            if pid in seen:
                continue  # another of its deadlines: the case was looked at already
            seen.add(pid)
            for _attempt in range(3):
                try:
                    acted += act(pid).recorded
                except Conflict:
                    continue  # the case changed meanwhile (or another scheduler acted): look again
                except CaseNotFound:
                    pass  # the view names a case the store does not have: nothing to act on
                except PetitionError as refused:
                    # One case the domain refuses (e.g. its last step lies ahead of this clock)
                    # must not hold up every case after it: name it and go on.
                    log.warning("scheduled_step_refused", job=job, case=pid, code=refused.code,
                                reason=str(refused))
                break
        after = batch[-1]
    if container.projector is not None:
        container.projector.catch_up()
    log.info(job, today=today.isoformat(), cases=acted)
    return acted


def sweep_deadlines(container: Container, today: date | None = None) -> int:
    """Record every office deadline that passed unmet, once (it raises the overdue warning)."""
    day = _today(container, today)
    return _each(container, "deadline_sweep",
                 lambda views, after: index.due_before(views, day, after=after),
                 lambda pid: container.petitions.record_missed_deadlines(pid, day), day)


def warn_due_soon(container: Container, today: date | None = None) -> int:
    """Flag office deadlines (other than revisits) that are due soon (临期预警)."""
    day, rules = _today(container, today), container.petitions.warning_rules()
    days, share = rules.due_soon_days, rules.due_soon_share
    return _each(container, "due_soon_warnings",
                 lambda views, after: index.approaching(views, day, days, share, revisit=False,
                                                        after=after),
                 lambda pid: container.petitions.notice_approaching(
                     pid, days=days, share=share, today=day, skip=("revisit",)), day)


def remind_revisits(container: Container, today: date | None = None) -> int:
    """Remind the responsible unit of revisits (回访) coming due."""
    day = _today(container, today)
    days = container.petitions.warning_rules().revisit_remind_days
    return _each(container, "revisit_reminders",
                 lambda views, after: index.approaching(views, day, days, 0.0, revisit=True,
                                                        after=after),
                 lambda pid: container.petitions.notice_approaching(
                     pid, days=days, share=0.0, today=day, clocks=("revisit",)), day)


def close_lapsed(container: Container, today: date | None = None) -> int:
    """Close served cases whose review (or re-review) window passed with no request."""
    day = _today(container, today)
    return _each(container, "close_lapsed",
                 lambda views, after: index.lapsed_windows(views, day, after=after),
                 lambda pid: container.petitions.close_lapsed(pid, day), day)


def supervise_overdue(container: Container, today: date | None = None) -> int:
    """Order supervision (督办), from the unit above the responsible one, of cases overdue beyond
    the grace the administrator set; once per missed deadline."""
    day = _today(container, today)
    grace = container.petitions.warning_rules().supervision_grace_days
    directory = container.directory

    def act(pid: str) -> Outcome:
        unit = container.petitions.get(pid).responsible_unit
        above = directory.ancestors(unit)[1:2]
        return container.petitions.supervise_overdue(
            pid, grace_days=grace, by_unit=above[0] if above else unit, today=day)

    return _each(container, "overdue_supervision",
                 lambda views, after: index.overdue_unsupervised(views, day, grace, after=after),
                 act, day)
