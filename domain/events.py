"""The events of a petition's life, in the past tense, and how each changes the case."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import resolve_topic

from domain.deadlines import Deadline

if TYPE_CHECKING:
    from domain.petition import Petition

ENDED = frozenset({"redirected", "declined", "closed", "final"})


def _close_clocks(petition: Petition, clocks: set[str] | None, on: date) -> None:
    """Stop the running clocks named (every running clock when None) as of `on`."""
    petition.deadlines = [
        d.closed(on) if (clocks is None or d.clock in clocks) and d.is_running else d
        for d in petition.deadlines
    ]


class Registered(Aggregate.Created):
    """A petition was registered by reception (登记)."""

    case_number: str
    channel: str
    received_at: datetime
    receiving_unit: str
    location_unit: str
    petitioners: list[dict[str, Any]]
    headcount: int
    category: str
    summary: str
    content: str
    urgent: bool
    key_person: bool
    at: datetime
    actor: str
    triage: Deadline
    access_code_digest: str
    related_case_id: str | None
    related_case_number: str | None
    timezone: str

    def mutate(self, aggregate: Any) -> Any:
        """The library's CanInitAggregate.mutate, the petition's fields named once (FIELDS) rather
        than picked out of the event for each registration by reading the signatures of the
        aggregate's two constructors (a rebuild replays every registration of the history)."""
        assert aggregate is None
        cls = resolve_topic(self.originator_topic)
        petition = cls.__new__(cls)
        petition.__base_init__(self.originator_id, self.originator_version, self.timestamp)
        state = vars(self)
        petition.__init__(**{name: state[name] for name in FIELDS})
        self.apply(petition)
        return petition


FIELDS = tuple(Registered.__annotations__)  # the petition's, as its constructor names them


class PetitionEvent(Aggregate.Event):
    """Base of every event after registration: who did it, and when in business time."""

    at: datetime
    actor: str
    note: str | None

    def apply(self, aggregate: Petition) -> None:
        """Record the business time; subclasses add their own change."""
        aggregate.last_at = max(aggregate.last_at, self.at)
        self.change(aggregate, aggregate.office_date(self.at))

    def change(self, petition: Petition, on: date) -> None:
        """The event's own change to the case."""


class Assigned(PetitionEvent):
    """Triage sent the case to the competent unit: forwarded (转送) or assigned (交办)."""

    unit: str
    person: str | None
    mode: str
    acceptance: Deadline

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, {"triage"}, on)
        petition.status = "forwarded" if self.mode == "forward" else "assigned"
        petition.responsible_unit = self.unit
        if self.person:
            petition.responsible_person = self.person
            petition.person_named = True
        petition.deadlines.append(self.acceptance)


class Redirected(PetitionEvent):
    """The petitioner was told to go to the competent body (告知); the case ends."""

    to: str
    reason: str

    def change(self, petition: Petition, on: date) -> None:
        petition.status = "redirected"
        petition.outcome = f"redirected to {self.to}: {self.reason}"
        petition.last_contacted_at = self.at
        _close_clocks(petition, None, on)


class Declined(PetitionEvent):
    """The case was not accepted (不予受理); the case ends."""

    reason: str

    def change(self, petition: Petition, on: date) -> None:
        petition.status = "declined"
        petition.outcome = f"declined: {self.reason}"
        petition.last_contacted_at = self.at
        _close_clocks(petition, None, on)


class Accepted(PetitionEvent):
    """The competent unit accepted the case (受理); the handling clock starts."""

    handling: Deadline

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, {"acceptance"}, on)
        petition.status = "accepted"
        if not petition.person_named:
            petition.responsible_person = self.actor
            petition.person_named = True
        petition.last_contacted_at = self.at
        petition.deadlines.append(self.handling)


class NoteAdded(PetitionEvent):
    """A note of investigation, mediation or other work was added."""

    text: str
    kind: str

    def change(self, petition: Petition, on: date) -> None:
        petition.notes_count += 1


class Extended(PetitionEvent):
    """The handling time limit was extended once, approved by a leader (延期)."""

    days: int
    reason: str
    approved_by: str
    handling: Deadline

    def change(self, petition: Petition, on: date) -> None:
        petition.extension = {"days": self.days, "reason": self.reason, "by": self.approved_by}
        petition.replace_deadline(self.handling)
        petition.last_contacted_at = self.at


class ClockSuspended(PetitionEvent):
    """Running clocks stood still (hearing, awaiting supplementary material)."""

    reason: str
    clocks: list[str]

    def change(self, petition: Petition, on: date) -> None:
        petition.deadlines = [
            d.suspended(on) if d.status == "open" and d.clock in self.clocks else d
            for d in petition.deadlines
        ]


class ClockResumed(PetitionEvent):
    """Suspended clocks run again; their due dates moved by the days they stood still."""

    reason: str
    resumed: list[Deadline]

    def change(self, petition: Petition, on: date) -> None:
        for deadline in self.resumed:
            petition.replace_deadline(deadline)


class Replied(PetitionEvent):
    """The handling opinion was issued (处理意见书): support, explain or not support."""

    opinion: str
    text: str

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, {"handling"}, on)
        petition.status = "replied"
        petition.opinion = self.opinion


class Served(PetitionEvent):
    """The opinion or review decision was served on the petitioner; a request window opens."""

    window: Deadline

    def change(self, petition: Petition, on: date) -> None:
        petition.status = "served"
        petition.served_tier = petition.tier
        petition.last_contacted_at = self.at
        petition.deadlines.append(self.window)


class Rated(PetitionEvent):
    """The petitioner rated the opinion served (满意度评价)."""

    satisfaction: str

    def change(self, petition: Petition, on: date) -> None:
        petition.ratings.append({"tier": petition.tier, "satisfaction": self.satisfaction})


class AppealRequested(PetitionEvent):
    """Base of the petitioner's requests for review and re-review."""

    reason: str
    unit: str | None
    decision: Deadline

    window = ""  # the request window this request uses
    new_status = ""
    new_tier = 0

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, {self.window}, on)
        petition.status = self.new_status
        petition.tier = self.new_tier
        if self.unit and self.unit != petition.responsible_unit:
            # The deciding unit is responsible now; whoever recorded the request answers for it
            # until someone there takes it up (first-inquiry responsibility).
            petition.responsible_unit = self.unit
            petition.responsible_person = self.actor
            petition.person_named = False
        petition.deadlines.append(self.decision)


class ReviewRequested(AppealRequested):
    """The petitioner asked the next unit up to review the opinion (复查)."""

    window, new_status, new_tier = "review_request", "review_requested", 1


class ReviewDecided(PetitionEvent):
    """The review decision was made."""

    opinion: str
    text: str

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, {"review_decision"}, on)
        petition.status = "review_decided"
        petition.opinion = self.opinion


class RereviewRequested(AppealRequested):
    """The petitioner asked for a re-review of the review decision (复核)."""

    window, new_status, new_tier = "rereview_request", "rereview_requested", 2


class RereviewDecided(PetitionEvent):
    """The re-review decision was made; the matter is final (终结)."""

    opinion: str
    text: str
    revisit: Deadline

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, None, on)
        petition.status = "final"
        petition.opinion = self.opinion
        petition.outcome = f"final after re-review: {self.opinion}"
        petition.last_contacted_at = self.at
        petition.deadlines.append(self.revisit)


class Escalated(PetitionEvent):
    """The matter was reported upward (上报)."""

    to_unit: str
    reason: str

    def change(self, petition: Petition, on: date) -> None:
        petition.escalations.append({"to_unit": self.to_unit, "at": self.at.isoformat()})


class Supervised(PetitionEvent):
    """A higher unit ordered the handler to act (督办); a feedback clock starts."""

    level: str
    reason: str
    by_unit: str | None
    feedback: Deadline

    def change(self, petition: Petition, on: date) -> None:
        petition.supervision_level = self.level
        petition.supervisions.append(
            {"level": self.level, "by_unit": self.by_unit, "at": self.at.isoformat()}
        )
        petition.deadlines.append(self.feedback)


class SupervisionReported(PetitionEvent):
    """The handler reported back to the supervising unit."""

    text: str

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, {"supervision_feedback"}, on)


class Packaged(PetitionEvent):
    """A named leader took personal responsibility for the case (领导包案)."""

    leader: str

    def change(self, petition: Petition, on: date) -> None:
        petition.package_leader = self.leader


class Closed(PetitionEvent):
    """The case was closed (办结); the revisit clock starts."""

    reason: str
    revisit: Deadline

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, None, on)
        petition.status = "closed"
        petition.outcome = f"closed: {self.reason}"
        petition.deadlines.append(self.revisit)


class Revisited(PetitionEvent):
    """The office visited or called the petitioner after the reply (回访)."""

    outcome: str
    text: str

    def change(self, petition: Petition, on: date) -> None:
        _close_clocks(petition, {"revisit"}, on)
        petition.revisits += 1
        petition.last_contacted_at = self.at


class DeadlineApproaching(PetitionEvent):
    """The scheduler saw a deadline close to its due day (临期提醒); the board warns until it closes."""

    index: int
    clock: str
    due: date
    days_left: int

    def apply(self, aggregate: Petition) -> None:
        """A reminder is no step of the case: the business time stays where the last step left it."""
        self.change(aggregate, aggregate.office_date(self.at))

    def change(self, petition: Petition, on: date) -> None:
        petition.approaching = {**petition.flagged_due_soon(), str(self.index): self.due.isoformat()}


class DeadlineMissed(PetitionEvent):
    """A deadline passed with no closing event; charged to whoever was responsible then."""

    index: int
    clock: str
    due: date
    responsible_unit: str
    responsible_person: str

    def apply(self, aggregate: Petition) -> None:
        """Record the miss without moving the case's business time: the sweep is no step of the case,
        and a step that really happened earlier may still be entered after it."""
        self.change(aggregate, aggregate.office_date(self.at))

    def change(self, petition: Petition, on: date) -> None:
        petition.deadlines[self.index] = petition.deadlines[self.index].missed(on)
