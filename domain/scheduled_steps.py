"""What the scheduler records on a case by itself: reminders and orders no clerk has to remember."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from domain import events as ev
from domain.deadlines import Deadline, DeadlinePolicy
from domain.petition_state import PetitionState


def is_due_soon(deadline: Deadline, today: date, days: int, share: float) -> bool:
    """≤ `days` left, or ≤ `share` of the clock's length left (the domain page's due-soon rule)."""
    left = (deadline.due - today).days
    length = max((deadline.due - deadline.starts).days, 1)
    return left >= 0 and (left <= days or left <= share * length)


class ScheduledSteps(PetitionState):
    """Steps the scheduler takes on a case; each is recorded once, as an event, like any other."""

    def notice_approaching(self, *, today: date, at: datetime, actor: str, days: int,
                           share: float, clocks: Collection[str] | None = None,
                           skip: Collection[str] = ()) -> int:
        """Flag each open office deadline that is due soon and not yet flagged; returns how many."""
        found = 0
        for i, d in enumerate(self.deadlines):
            if (d.status != "open" or d.is_petitioner_window or d.clock in skip
                    or (clocks is not None and d.clock not in clocks)
                    or self.flagged_due_soon().get(str(i)) == d.due.isoformat()
                    or not is_due_soon(d, today, days, share)):
                continue
            self.trigger_event(ev.DeadlineApproaching, at=max(at, self.last_at), actor=actor,
                               note=None, index=i, clock=d.clock, due=d.due,
                               days_left=(d.due - today).days)
            found += 1
        return found

    def overdue_unsupervised(self, today: date, grace_days: int) -> Deadline | None:
        """The first office deadline unmet more than `grace_days` after its due day (recorded missed
        or not yet), with no supervision ordered since."""
        if not self.is_open:
            return None
        ordered = [self.office_date(datetime.fromisoformat(s["at"])) for s in self.supervisions]
        for d in self.deadlines:
            late = (d.status == "missed" and d.closed_on is None) or d.status == "open"
            if (late and not d.is_petitioner_window and (today - d.due).days > grace_days
                    and not any(day > d.due for day in ordered)):
                return d
        return None

    def supervise_overdue(self, *, today: date, grace_days: int, by_unit: str | None,
                          at: datetime, actor: str, policy: DeadlinePolicy) -> bool:
        """Order supervision (督办) of a case overdue beyond the grace; red when feedback was missed."""
        late = self.overdue_unsupervised(today, grace_days)
        if late is None:
            return False
        at = max(at, self.last_at)
        level = "red" if late.clock == "supervision_feedback" else "yellow"
        self.trigger_event(
            ev.Supervised, at=at, actor=actor, note=None, level=level, by_unit=by_unit,
            reason=f"{late.clock} was due {late.due.isoformat()} and is still unmet "
                   f"{(today - late.due).days} days later (grace {grace_days} days)",
            feedback=policy.start("supervision_feedback", policy.office_date(at)),
        )
        return True

    def lapsed_window(self, today: date) -> Deadline | None:
        """The petitioner's request window of a served case, when it passed with no request."""
        if self.status != "served":
            return None
        window = self.current("review_request" if self.tier == 0 else "rereview_request")
        return window if window is not None and window.status == "open" and window.due < today else None
