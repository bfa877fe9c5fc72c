"""Statutory time limits: the clocks of a case, their rules, and how they move."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from domain.calendar import Counting, WorkCalendar
from domain.errors import InvalidField

Clock = Literal[
    "triage",
    "acceptance",
    "handling",
    "review_request",
    "review_decision",
    "rereview_request",
    "rereview_decision",
    "supervision_feedback",
    "revisit",
]
CLOCKS: tuple[Clock, ...] = get_args(Clock)
# Windows the petitioner may use; letting one pass is no fault of the office.
PETITIONER_WINDOWS: frozenset[str] = frozenset({"review_request", "rereview_request"})
DeadlineStatus = Literal["open", "met", "missed", "suspended"]


@dataclass(frozen=True)
class ClockRule:
    """How long a clock runs, how its days are counted, and the article behind it."""

    days: int
    counting: Counting
    source: str
    starts_at: str

    def describe(self) -> str:
        """The rule in words, as recorded on each deadline for reviewers."""
        unit = "calendar days" if self.counting == "calendar" else "working days"
        moved = (
            ", last day moved to the next working day"
            if self.counting == "calendar"
            else ""
        )
        return (
            f"{self.days} {unit} from {self.starts_at} ({self.source}); "
            f"start day not counted{moved}"
        )


DEFAULT_RULES: dict[str, ClockRule] = {
    "triage": ClockRule(15, "calendar", "Regulations 2005 art. 21", "registration"),
    "acceptance": ClockRule(15, "calendar", "Regulations 2005 arts. 21-22", "receipt"),
    "handling": ClockRule(60, "calendar", "Regulations 2005 art. 33", "acceptance"),
    "review_request": ClockRule(30, "calendar", "Regulations 2005 art. 34", "service"),
    "review_decision": ClockRule(30, "calendar", "Regulations 2005 art. 34", "request"),
    "rereview_request": ClockRule(30, "calendar", "Regulations 2005 art. 35", "service"),
    "rereview_decision": ClockRule(
        30, "calendar", "Regulations 2005 art. 35, hearing time excluded", "request"
    ),
    "supervision_feedback": ClockRule(30, "calendar", "Regulations 2005 art. 36", "order"),
    "revisit": ClockRule(15, "calendar", "office practice", "closure"),
}
MAX_EXTENSION_DAYS = 30


@dataclass(frozen=True)
class Deadline:
    """One running or finished clock of a case, with the rule and calendar it was computed by."""

    clock: str
    starts: date
    due: date
    status: DeadlineStatus
    rule: str
    calendar: str
    days: int
    counting: Counting
    extension_days: int = 0
    suspended_days: int = 0
    suspended_since: date | None = None
    closed_on: date | None = None
    missed_on: date | None = None

    @property
    def is_running(self) -> bool:
        """Open or suspended: no closing event has come yet."""
        return self.status in ("open", "suspended") or (
            self.status == "missed" and self.closed_on is None
        )

    @property
    def is_petitioner_window(self) -> bool:
        """True for the petitioner's request windows, which the office cannot miss."""
        return self.clock in PETITIONER_WINDOWS

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (dates as ISO strings); written by hand, it runs on every command."""
        return {
            "clock": self.clock,
            "starts": self.starts.isoformat(),
            "due": self.due.isoformat(),
            "status": self.status,
            "rule": self.rule,
            "calendar": self.calendar,
            "days": self.days,
            "counting": self.counting,
            "extension_days": self.extension_days,
            "suspended_days": self.suspended_days,
            "suspended_since": _iso(self.suspended_since),
            "closed_on": _iso(self.closed_on),
            "missed_on": _iso(self.missed_on),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deadline:
        """Inverse of to_dict."""
        values = dict(data)
        for key in ("starts", "due", "suspended_since", "closed_on", "missed_on"):
            if values.get(key) is not None:
                values[key] = date.fromisoformat(values[key])
        return cls(**values)

    def closed(self, on: date) -> Deadline:
        """The clock stopped by its closing event on `on`: met if on time, else missed."""
        if self.status == "missed":
            return self._changed(closed_on=on, suspended_since=None)
        on_time = self.status == "suspended" or on <= self.due
        return self._changed(
            status="met" if on_time else "missed",
            closed_on=on,
            suspended_since=None,
            missed_on=None if on_time else on,
        )

    def missed(self, on: date) -> Deadline:
        """The clock passed its due date with no closing event."""
        return self._changed(status="missed", missed_on=on)

    def _changed(self, **changes: Any) -> Deadline:
        """dataclasses.replace without its per-field checks (no field here has any): closing
        clocks runs on every replay of a case, and a rebuild replays every case."""
        copy = object.__new__(Deadline)
        copy.__dict__.update(self.__dict__, **changes)
        return copy

    def suspended(self, on: date) -> Deadline:
        """The clock stopped (hearing, awaiting material) from `on`."""
        return dataclasses.replace(self, status="suspended", suspended_since=on)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


class DeadlinePolicy:
    """Computes deadlines from the configured clock rules and the working-day calendar."""

    def __init__(
        self,
        calendar: WorkCalendar | None = None,
        rules: Mapping[str, ClockRule] | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.calendar = calendar or WorkCalendar()
        self.rules: dict[str, ClockRule] = dict(DEFAULT_RULES)
        if rules:
            unknown = set(rules) - set(CLOCKS)
            if unknown:
                raise InvalidField("clock", f"unknown clock(s): {', '.join(sorted(unknown))}")
            self.rules.update(rules)
        self.tz = ZoneInfo(timezone)

    def office_date(self, moment: datetime) -> date:
        """The date of a moment in the office's time zone."""
        return moment.astimezone(self.tz).date()

    def start(self, clock: str, starts: date) -> Deadline:
        """A new open deadline for `clock` starting on `starts`."""
        rule = self.rules[clock]
        return self._computed(
            Deadline(
                clock=clock,
                starts=starts,
                due=starts,
                status="open",
                rule=rule.describe(),
                calendar="",
                days=rule.days,
                counting=rule.counting,
            )
        )

    def extended(self, deadline: Deadline, days: int) -> Deadline:
        """The deadline moved later by an approved extension of `days` days."""
        return self._computed(
            dataclasses.replace(deadline, extension_days=deadline.extension_days + days)
        )

    def resumed(self, deadline: Deadline, on: date) -> Deadline:
        """The deadline running again from `on`, its due date moved by the days it stood still."""
        since = deadline.suspended_since or on
        if deadline.counting == "working":
            stood = self.calendar.working_days_between(since, on)
        else:
            stood = max((on - since).days, 0)
        return self._computed(
            dataclasses.replace(
                deadline,
                status="open",
                suspended_since=None,
                suspended_days=deadline.suspended_days + stood,
            )
        )

    def _computed(self, deadline: Deadline) -> Deadline:
        length = deadline.days + deadline.extension_days + deadline.suspended_days
        due = self.calendar.due_date(deadline.starts, length, deadline.counting)
        return dataclasses.replace(
            deadline, due=due, calendar=self.calendar.version(deadline.starts, due)
        )
