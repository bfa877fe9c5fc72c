"""The commands the scheduler gives the petition service: each looks at one case and acts at most once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Recording

from domain.deadlines import DeadlinePolicy
from domain.errors import Conflict
from domain.petition import Petition

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Outcome:
    """A command's result: the case as it now is, and the notification id of the save."""

    petition: Petition
    notification_id: int | None

    @property
    def recorded(self) -> bool:
        """Whether the command recorded anything."""
        return self.notification_id is not None


class ScheduledCommands:
    """Mixed into the petition service. Safe to repeat: a step already taken is not taken again,
    and two schedulers acting on one case at once conflict instead of both recording it."""

    # Provided by the service (annotations only, so the service's own definitions are used).
    policy: DeadlinePolicy
    clock: Callable[[], datetime]
    get: Callable[..., Petition]
    save: Callable[..., list[Recording[Any]]]

    def _system_step(self, petition_id: UUID | str, step: Callable[[Petition, datetime], object],
                     what: str) -> Outcome:
        petition = self.get(petition_id)
        step(petition, self.clock())
        try:
            recordings = self.save(petition)
        except IntegrityError:
            raise Conflict(f"the case changed while {what}") from None
        return Outcome(petition, recordings[-1].notification.id if recordings else None)

    def _today(self, today: date | None) -> date:
        return today or self.policy.office_date(self.clock())

    def record_missed_deadlines(self, petition_id: UUID | str, today: date | None = None) -> Outcome:
        """Record each deadline of the case that passed unmet, once (safe to run twice)."""
        day = self._today(today)
        return self._system_step(petition_id, lambda p, now: p.record_missed(
            today=day, at=now, actor=SYSTEM_ACTOR), "its deadlines were being checked")

    def notice_approaching(self, petition_id: UUID | str, *, days: int, share: float,
                           today: date | None = None, clocks: tuple[str, ...] | None = None,
                           skip: tuple[str, ...] = ()) -> Outcome:
        """Flag the case's deadlines that are due soon (临期预警), once each."""
        day = self._today(today)
        return self._system_step(petition_id, lambda p, now: p.notice_approaching(
            today=day, at=now, actor=SYSTEM_ACTOR, days=days, share=share, clocks=clocks,
            skip=skip), "its deadlines were being checked")

    def supervise_overdue(self, petition_id: UUID | str, *, grace_days: int,
                          by_unit: str | None, today: date | None = None) -> Outcome:
        """Order supervision (督办) of a case overdue beyond the grace, once per missed deadline."""
        day = self._today(today)
        return self._system_step(petition_id, lambda p, now: p.supervise_overdue(
            today=day, grace_days=grace_days, by_unit=by_unit, at=now, actor=SYSTEM_ACTOR,
            policy=self.policy), "supervision was being ordered")

    def close_lapsed(self, petition_id: UUID | str, today: date | None = None) -> Outcome:
        """Close a served case whose request window passed with no request (else record nothing)."""
        day = self._today(today)

        def close(petition: Petition, now: datetime) -> None:
            window = petition.lapsed_window(day)
            if window is not None:
                petition.close(
                    reason=f"no {'review' if petition.tier == 0 else 're-review'} was requested "
                           f"by {window.due.isoformat()}; closed by the system",
                    at=max(now, petition.last_at), actor=SYSTEM_ACTOR, policy=self.policy, now=now)

        return self._system_step(petition_id, close, "it was being closed")
