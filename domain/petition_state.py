"""The state of a petition (信访事项) and the checks every command makes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from domain import events as ev
from domain.deadlines import Deadline
from domain.errors import (
    ActionNotAllowed,
    CaseIsFinal,
    InvalidField,
)
from domain.intake import aware
from domain.intake import text as clean

OPEN_STATUSES = frozenset(
    {
        "registered",
        "forwarded",
        "assigned",
        "accepted",
        "replied",
        "served",
        "review_requested",
        "review_decided",
        "rereview_requested",
    }
)
STATUS_WORDS = {
    "registered": "registered and waiting to be routed",
    "forwarded": "forwarded and waiting for the unit to accept it",
    "assigned": "assigned and waiting for the unit to accept it",
    "accepted": "accepted and being handled",
    "replied": "answered, with the opinion not yet served",
    "served": "answered, with the opinion served on the petitioner",
    "review_requested": "under review",
    "review_decided": "reviewed, with the decision not yet served",
    "rereview_requested": "under re-review",
    "redirected": "closed: the petitioner was told where to go",
    "declined": "closed: not accepted",
    "closed": "closed",
    "final": "final",
}
OPINIONS = ("support", "explain", "not_support")
SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")
NOTE_KINDS = ("investigation", "mediation", "other")
SUPERVISION_LEVELS = ("normal", "yellow", "red")
# The last moment `office_date` was asked for, its time zone and its date (the moment is held
# here, so no other object can take its identity).
_last_office_date: list[tuple[datetime | None, str, date]] = [(None, "", date.min)]
STAGE_CLOCKS = frozenset({"triage", "acceptance", "handling", "review_decision", "rereview_decision"})


def one_of(value: object, choices: Iterable[str], field: str) -> str:
    """`value` if it is one of `choices`, else an error naming the field and the choices."""
    options = tuple(choices)
    if value not in options:
        raise InvalidField(field, f"must be one of {', '.join(options)}")
    return str(value)


class PetitionState(Aggregate):
    """What is known of a petition, and the checks every command makes before it records anything."""

    def __init__(
        self, *, case_number: str, channel: str, received_at: datetime, receiving_unit: str,
        location_unit: str, petitioners: list[dict[str, Any]], headcount: int, category: str,
        summary: str, content: str, urgent: bool, key_person: bool, at: datetime, actor: str,
        triage: Deadline, access_code_digest: str, related_case_id: str | None,
        related_case_number: str | None, timezone: str,
    ) -> None:
        self.case_number = case_number
        self.channel = channel
        self.received_at = received_at
        self.receiving_unit = receiving_unit
        self.location_unit = location_unit
        self.petitioners = petitioners
        self.headcount = headcount
        self.category = category
        self.summary = summary
        self.content = content
        self.urgent = urgent
        self.key_person = key_person
        self.access_code_digest = access_code_digest
        self.related_case_id = related_case_id
        self.related_case_number = related_case_number
        self.timezone = timezone
        self.registered_at = at
        self.registered_by = actor
        self.status = "registered"
        # First-inquiry responsibility (首问负责制): the registrar answers for the case until
        # an assignment names another person.
        self.responsible_unit = receiving_unit
        self.responsible_person = actor
        self.person_named = False
        self.deadlines: list[Deadline] = [triage]
        self.last_at = at
        self.last_contacted_at = at
        self.extension: dict[str, Any] | None = None
        self.opinion: str | None = None
        self.outcome: str | None = None
        self.tier = 0
        self.served_tier: int | None = None
        self.ratings: list[dict[str, Any]] = []
        self.escalations: list[dict[str, Any]] = []
        self.supervisions: list[dict[str, Any]] = []
        self.supervision_level: str | None = None
        self.package_leader: str | None = None
        self.notes_count = 0
        self.revisits = 0
        # Deadlines the scheduler flagged as due soon: index (a string, as JSON keeps it) -> the
        # due day it saw.
        self.approaching: dict[str, str] = {}

    # ---- reading the state -------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Still being worked on: not redirected, declined, closed or final."""
        return self.status in OPEN_STATUSES

    def office_date(self, moment: datetime) -> date:
        """The date of a moment in the office's time zone. The last one asked for is remembered:
        an event's own time is asked for again by the views that project it (a rebuild, every
        event of the history)."""
        last = _last_office_date[0]
        if last[0] is moment and last[1] == self.timezone:
            return last[2]
        day = moment.astimezone(ZoneInfo(self.timezone)).date()
        _last_office_date[0] = (moment, self.timezone, day)  # one tuple: threads see it whole
        return day

    def current(self, clock: str) -> Deadline | None:
        """The latest deadline of `clock`, if it was ever started."""
        for deadline in reversed(self.deadlines):
            if deadline.clock == clock:
                return deadline
        return None

    def age_days(self, today: date) -> int:
        """The total age of the case in days, from receipt."""
        return (today - self.office_date(self.received_at)).days

    def silent_days(self, today: date) -> int:
        """Days since the petitioner last heard from the office."""
        return (today - self.office_date(self.last_contacted_at)).days

    def replace_deadline(self, new: Deadline) -> None:
        """Put `new` in place of the latest deadline of the same clock."""
        for i in range(len(self.deadlines) - 1, -1, -1):
            if self.deadlines[i].clock == new.clock:
                self.deadlines[i] = new
                return
        self.deadlines.append(new)

    def flagged_due_soon(self) -> Mapping[str, str]:
        """Deadline index -> due day, for each deadline the scheduler flagged as due soon (also
        on a case restored from a snapshot taken before reminders existed)."""
        flagged: Mapping[str, str] = self.__dict__.get("approaching", {})
        return flagged

    def approaching_deadlines(self) -> list[tuple[int, Deadline]]:
        """Deadlines flagged due soon that are still open on the due day that was seen."""
        flagged = self.flagged_due_soon()
        if not flagged:  # most cases, most of the time: asked after every event by the views
            return []
        return [
            (i, self.deadlines[i]) for i, due in sorted((int(k), v) for k, v in flagged.items())
            if i < len(self.deadlines) and self.deadlines[i].status == "open"
            and self.deadlines[i].due.isoformat() == due
        ]

    def overdue_unrecorded(self, today: date) -> list[int]:
        """Indexes of open deadlines whose due day has passed and that are not yet recorded missed."""
        return [
            i
            for i, d in enumerate(self.deadlines)
            # A petitioner's request window that lapses is no fault of the office: the case is
            # closed instead (close_case), so the sweep records office clocks only.
            if d.status == "open" and d.due < today and not d.is_petitioner_window
        ]

    # ---- checks ------------------------------------------------------------------------

    def check_time(self, at: datetime, now: datetime | None) -> datetime:
        """Business time must be given with an offset, not in the future, not before the last step."""
        at = aware(at, "at")
        now = now or datetime.now(UTC)
        if at > now:
            raise InvalidField("at", "is in the future; record what has already happened")
        if at < self.last_at:
            raise InvalidField(
                "at",
                "is earlier than the case's last recorded step "
                f"({self.last_at.isoformat(timespec='minutes')}); record steps in order",
            )
        return at

    def check_status(self, action: str, *allowed: str) -> None:
        """Refuse an action that does not fit the case's current status."""
        if self.status in allowed:
            return
        if self.status == "final":
            raise CaseIsFinal(
                f"cannot {action}: this case is final (终结); after re-review the same matter "
                "is not taken up again, and only revisits can be recorded"
            )
        allowed_words = " or ".join(STATUS_WORDS[s] for s in allowed)
        raise ActionNotAllowed(
            f"cannot {action}: this case is {STATUS_WORDS[self.status]}; "
            f"this is possible only when it is {allowed_words}"
        )

    def check_open(self, action: str) -> None:
        """Refuse an action on a case that has ended."""
        self.check_status(action, *sorted(OPEN_STATUSES))

    # ---- commands ----------------------------------------------------------------------

    def _do(self, event: type[ev.PetitionEvent], at: datetime, actor: str, note: str | None,
            **data: Any) -> None:
        self.trigger_event(
            event, at=at, actor=clean(actor, "actor", max_length=100),
            note=clean(note, "note", max_length=2000, required=False) or None, **data,
        )
