"""The Petition aggregate (信访事项): the commands that change a case, from registration to revisit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain import events as ev
from domain.deadlines import MAX_EXTENSION_DAYS, DeadlinePolicy
from domain.errors import ActionNotAllowed, AlreadyExtended, InvalidField
from domain.intake import text as clean
from domain.petition_state import (
    NOTE_KINDS,
    OPINIONS,
    SATISFACTION,
    STAGE_CLOCKS,
    SUPERVISION_LEVELS,
    one_of,
)
from domain.scheduled_steps import ScheduledSteps


class Petition(ScheduledSteps):
    """One matter raised by one or more petitioners, from registration to revisit."""

    def assign(self, *, unit: str, mode: str, at: datetime, actor: str, policy: DeadlinePolicy,
               person: str | None = None, note: str | None = None, now: datetime | None = None,
               ) -> None:
        """Forward (转送) or assign (交办) the case to the competent unit."""
        self.check_status("assign", "registered")
        at = self.check_time(at, now)
        mode = one_of(mode, ("forward", "assign"), "mode")
        unit = clean(unit, "unit", max_length=64)
        person = clean(person, "person", max_length=100, required=False) or None
        acceptance = policy.start("acceptance", policy.office_date(at))
        self._do(ev.Assigned, at, actor, note, unit=unit, person=person, mode=mode,
                 acceptance=acceptance)

    def redirect(self, *, to: str, reason: str, at: datetime, actor: str,
                 note: str | None = None, now: datetime | None = None) -> None:
        """Tell the petitioner to go to the congress, court, procuratorate or arbitration."""
        self.check_status("redirect", "registered")
        at = self.check_time(at, now)
        self._do(ev.Redirected, at, actor, note, to=clean(to, "to", max_length=200),
                 reason=clean(reason, "reason", max_length=2000))

    def decline(self, *, reason: str, at: datetime, actor: str, note: str | None = None,
                now: datetime | None = None) -> None:
        """Decide not to accept the case (不予受理)."""
        self.check_status("decline", "registered", "forwarded", "assigned")
        at = self.check_time(at, now)
        self._do(ev.Declined, at, actor, note, reason=clean(reason, "reason", max_length=2000))

    def accept(self, *, at: datetime, actor: str, policy: DeadlinePolicy,
               note: str | None = None, now: datetime | None = None) -> None:
        """Accept the case for handling (受理); the 60-day handling clock starts."""
        self.check_status("accept", "forwarded", "assigned")
        at = self.check_time(at, now)
        handling = policy.start("handling", policy.office_date(at))
        self._do(ev.Accepted, at, actor, note, handling=handling)

    def add_note(self, *, text: str, kind: str, at: datetime, actor: str,
                 note: str | None = None, now: datetime | None = None) -> None:
        """Record investigation, mediation or other work on an open case."""
        self.check_open("add a note")
        at = self.check_time(at, now)
        self._do(ev.NoteAdded, at, actor, note, text=clean(text, "text", max_length=20000),
                 kind=one_of(kind, NOTE_KINDS, "kind"))

    def extend(self, *, days: int, reason: str, approved_by: str, at: datetime, actor: str,
               policy: DeadlinePolicy, note: str | None = None, now: datetime | None = None,
               ) -> None:
        """Extend the handling time limit once, by at most 30 days, with a leader's approval."""
        self.check_status("extend the time limit", "accepted")
        if self.extension is not None:
            raise AlreadyExtended(
                "this case has already been extended once; the law allows one extension"
            )
        at = self.check_time(at, now)
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXTENSION_DAYS:
            raise InvalidField("days", f"must be a whole number from 1 to {MAX_EXTENSION_DAYS}")
        handling = self.current("handling")
        assert handling is not None  # accepted cases always have a handling clock
        if self.office_date(at) > handling.due:
            raise ActionNotAllowed(
                f"cannot extend: the handling time limit ended on {handling.due.isoformat()}; "
                "an extension must be approved before the limit ends"
            )
        self._do(ev.Extended, at, actor, note, days=days,
                 reason=clean(reason, "reason", max_length=2000),
                 approved_by=clean(approved_by, "approved_by", max_length=100),
                 handling=policy.extended(handling, days))

    def suspend_clock(self, *, reason: str, at: datetime, actor: str, clock: str | None = None,
                      note: str | None = None, now: datetime | None = None) -> None:
        """Stop the running stage clock (hearing, awaiting supplementary material)."""
        self.check_open("suspend the clock")
        at = self.check_time(at, now)
        running = [d.clock for d in self.deadlines if d.status == "open" and d.clock in STAGE_CLOCKS]
        if clock is not None:
            running = [c for c in running if c == clock]
        if not running:
            raise ActionNotAllowed(
                "cannot suspend the clock: no " + (f"'{clock}' " if clock else "")
                + "clock of this case is running"
            )
        self._do(ev.ClockSuspended, at, actor, note, reason=clean(reason, "reason", max_length=2000),
                 clocks=running)

    def resume_clock(self, *, reason: str, at: datetime, actor: str, policy: DeadlinePolicy,
                     note: str | None = None, now: datetime | None = None) -> None:
        """Restart suspended clocks; their due dates move by the days they stood still."""
        self.check_open("resume the clock")
        at = self.check_time(at, now)
        on = policy.office_date(at)
        resumed = [policy.resumed(d, on) for d in self.deadlines if d.status == "suspended"]
        if not resumed:
            raise ActionNotAllowed("cannot resume the clock: no clock of this case is suspended")
        self._do(ev.ClockResumed, at, actor, note, reason=clean(reason, "reason", max_length=2000),
                 resumed=resumed)

    def reply(self, *, opinion: str, text: str, at: datetime, actor: str,
              note: str | None = None, now: datetime | None = None) -> None:
        """Issue the handling opinion (处理意见书)."""
        self.check_status("reply", "accepted")
        at = self.check_time(at, now)
        self._do(ev.Replied, at, actor, note, opinion=one_of(opinion, OPINIONS, "opinion"),
                 text=clean(text, "text", max_length=20000))

    def serve(self, *, at: datetime, actor: str, policy: DeadlinePolicy,
              note: str | None = None, now: datetime | None = None) -> None:
        """Serve the opinion or the review decision on the petitioner."""
        self.check_status("serve", "replied", "review_decided")
        at = self.check_time(at, now)
        clock = "review_request" if self.status == "replied" else "rereview_request"
        self._do(ev.Served, at, actor, note, window=policy.start(clock, policy.office_date(at)))

    def rate(self, *, satisfaction: str, at: datetime, actor: str, note: str | None = None,
             now: datetime | None = None) -> None:
        """Record the petitioner's satisfaction with the opinion served."""
        self.check_status("rate", "served")
        if any(r["tier"] == self.tier for r in self.ratings):
            raise ActionNotAllowed("this opinion has already been rated by the petitioner")
        at = self.check_time(at, now)
        self._do(ev.Rated, at, actor, note,
                 satisfaction=one_of(satisfaction, SATISFACTION, "satisfaction"))

    def request_review(self, *, reason: str, at: datetime, actor: str, policy: DeadlinePolicy,
                       unit: str | None = None, note: str | None = None,
                       now: datetime | None = None) -> None:
        """The petitioner asks the next unit up to review the opinion (复查)."""
        self._check_request("request a review", 0, at, now)
        decision = policy.start("review_decision", policy.office_date(at))
        self._do(ev.ReviewRequested, at, actor, note, reason=clean(reason, "reason", max_length=2000),
                 unit=clean(unit, "unit", max_length=64, required=False) or None,
                 decision=decision)

    def decide_review(self, *, opinion: str, text: str, at: datetime, actor: str,
                      note: str | None = None, now: datetime | None = None) -> None:
        """Decide the review."""
        self.check_status("decide the review", "review_requested")
        at = self.check_time(at, now)
        self._do(ev.ReviewDecided, at, actor, note, opinion=one_of(opinion, OPINIONS, "opinion"),
                 text=clean(text, "text", max_length=20000))

    def request_rereview(self, *, reason: str, at: datetime, actor: str,
                         policy: DeadlinePolicy, unit: str | None = None,
                         note: str | None = None, now: datetime | None = None) -> None:
        """The petitioner asks for a re-review of the review decision (复核)."""
        self._check_request("request a re-review", 1, at, now)
        decision = policy.start("rereview_decision", policy.office_date(at))
        self._do(ev.RereviewRequested, at, actor, note,
                 reason=clean(reason, "reason", max_length=2000),
                 unit=clean(unit, "unit", max_length=64, required=False) or None,
                 decision=decision)

    def decide_rereview(self, *, opinion: str, text: str, at: datetime, actor: str,
                        policy: DeadlinePolicy, note: str | None = None,
                        now: datetime | None = None) -> None:
        """Decide the re-review; the matter becomes final (终结)."""
        self.check_status("decide the re-review", "rereview_requested")
        at = self.check_time(at, now)
        self._do(ev.RereviewDecided, at, actor, note,
                 opinion=one_of(opinion, OPINIONS, "opinion"),
                 text=clean(text, "text", max_length=20000),
                 revisit=policy.start("revisit", policy.office_date(at)))

    def _check_request(self, action: str, tier: int, at: datetime, now: datetime | None) -> None:
        self.check_status(action, "served")
        if self.tier != tier:
            what = "a review" if tier == 0 else "a re-review"
            raise ActionNotAllowed(
                f"cannot {action}: {what} is possible only after "
                + ("the handling opinion is served" if tier == 0 else "the review decision is served")
            )
        at = self.check_time(at, now)
        window = self.current("review_request" if tier == 0 else "rereview_request")
        if window is not None and self.office_date(at) > window.due:
            raise ActionNotAllowed(
                f"cannot {action}: the 30-day window ended on {window.due.isoformat()}"
            )

    def escalate(self, *, to_unit: str, reason: str, at: datetime, actor: str,
                 note: str | None = None, now: datetime | None = None) -> None:
        """Report the matter upward (上报)."""
        self.check_open("escalate")
        at = self.check_time(at, now)
        self._do(ev.Escalated, at, actor, note, to_unit=clean(to_unit, "to_unit", max_length=64),
                 reason=clean(reason, "reason", max_length=2000))

    def supervise(self, *, level: str, reason: str, at: datetime, actor: str,
                  policy: DeadlinePolicy, by_unit: str | None = None, note: str | None = None,
                  now: datetime | None = None) -> None:
        """A higher unit orders the handler to act (督办); feedback is due in 30 days."""
        self.check_open("order supervision")
        at = self.check_time(at, now)
        self._do(ev.Supervised, at, actor, note,
                 level=one_of(level, SUPERVISION_LEVELS, "level"),
                 reason=clean(reason, "reason", max_length=2000),
                 by_unit=clean(by_unit, "by_unit", max_length=64, required=False) or None,
                 feedback=policy.start("supervision_feedback", policy.office_date(at)))

    def report_supervision(self, *, text: str, at: datetime, actor: str,
                           note: str | None = None, now: datetime | None = None) -> None:
        """Report back to the supervising unit; stops the feedback clock."""
        self.check_open("report on supervision")
        if not any(d.clock == "supervision_feedback" and d.is_running for d in self.deadlines):
            raise ActionNotAllowed("cannot report on supervision: no supervision order is waiting")
        at = self.check_time(at, now)
        self._do(ev.SupervisionReported, at, actor, note, text=clean(text, "text", max_length=20000))

    def package(self, *, leader: str, at: datetime, actor: str, note: str | None = None,
                now: datetime | None = None) -> None:
        """Name a leader personally responsible for the case (领导包案)."""
        self.check_open("name a package leader")
        at = self.check_time(at, now)
        self._do(ev.Packaged, at, actor, note, leader=clean(leader, "leader", max_length=100))

    def close(self, *, reason: str, at: datetime, actor: str, policy: DeadlinePolicy,
              note: str | None = None, now: datetime | None = None) -> None:
        """Close a served case once the request window passed, or earlier if the petitioner is satisfied."""
        self.check_status("close", "served")
        at = self.check_time(at, now)
        window = self.current("review_request" if self.tier == 0 else "rereview_request")
        satisfied = any(
            r["tier"] == self.tier and r["satisfaction"] != "dissatisfied" for r in self.ratings
        )
        if window is not None and policy.office_date(at) <= window.due and not satisfied:
            raise ActionNotAllowed(
                f"cannot close yet: the petitioner may ask for "
                f"{'a review' if self.tier == 0 else 'a re-review'} until "
                f"{window.due.isoformat()}; close after that date, or earlier once the "
                "petitioner says they are satisfied"
            )
        self._do(ev.Closed, at, actor, note, reason=clean(reason, "reason", max_length=2000),
                 revisit=policy.start("revisit", policy.office_date(at)))

    def revisit(self, *, outcome: str, text: str, at: datetime, actor: str,
                note: str | None = None, now: datetime | None = None) -> None:
        """Record a return visit or call to the petitioner (回访)."""
        self.check_status("record a revisit", "closed", "final")
        at = self.check_time(at, now)
        self._do(ev.Revisited, at, actor, note, outcome=clean(outcome, "outcome", max_length=200),
                 text=clean(text, "text", max_length=20000))

    def record_missed(self, *, today: date, at: datetime, actor: str) -> int:
        """Record each open deadline that passed with no closing event, once; returns how many."""
        indexes = self.overdue_unrecorded(today)
        for i in indexes:
            d = self.deadlines[i]
            self.trigger_event(
                ev.DeadlineMissed, at=max(at, self.last_at), actor=actor, note=None, index=i,
                clock=d.clock, due=d.due, responsible_unit=self.responsible_unit,
                responsible_person=self.responsible_person,
            )
        return len(indexes)


def new_petition(*, id: UUID, **fields: Any) -> Petition:
    """Construct a freshly registered petition (the Registered event)."""
    return Petition._create(ev.Registered, id=id, **fields)
