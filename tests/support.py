"""Test support: a controllable clock and an office that drives cases through their lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from domain.service import PetitionService
from domain.validation import make_id_number

CST = timezone(timedelta(hours=8))
START = datetime(2026, 9, 1, 9, 0, tzinfo=CST)  # a Tuesday
ID_NUMBER = make_id_number("11010519491231002")


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float = 0, hours: float = 1) -> datetime:
        """Move forward and return the new time."""
        self.now += timedelta(days=days, hours=hours)
        return self.now


def registration(**overrides: Any) -> dict[str, Any]:
    """A valid registration, as reception would type it."""
    fields: dict[str, Any] = {
        "actor": "reception1",
        "channel": "visit",
        "received_at": START,
        "receiving_unit": "county",
        "location_unit": "county/town1",
        "petitioners": [
            {"name": "张三", "id_number": ID_NUMBER, "phone": "13812345678",
             "address": "一号村三组"},
        ],
        "headcount": 1,
        "category": "land",
        "summary": "承包地被占用",
        "content": "来访人反映其承包地被占用，要求恢复原状。",
    }
    fields.update(overrides)
    return fields


# The path from registration to each status, as (command, arguments) steps.
STEPS: Mapping[str, tuple[str, dict[str, Any]]] = {
    "forwarded": ("assign", {"unit": "county/town1", "person": None, "mode": "forward"}),
    "assigned": ("assign", {"unit": "county/town1", "person": "handler1", "mode": "assign"}),
    "accepted": ("accept", {}),
    "replied": ("reply", {"opinion": "support", "text": "支持诉求，限期恢复。"}),
    "served": ("serve", {}),
    "review_requested": ("request_review", {"reason": "不服处理意见"}),
    "review_decided": ("decide_review", {"opinion": "explain", "text": "复查维持。"}),
    "served_after_review": ("serve", {}),
    "rereview_requested": ("request_rereview", {"reason": "不服复查意见"}),
    "final": ("decide_rereview", {"opinion": "not_support", "text": "复核终结。"}),
}
PATH = ["assigned", "accepted", "replied", "served", "review_requested", "review_decided",
        "served_after_review", "rereview_requested", "final"]


@dataclass
class Office:
    """A service with a fake clock, and shortcuts to bring a case to a given status."""

    service: PetitionService
    clock: FakeClock = field(default_factory=FakeClock)

    def register(self, **overrides: Any) -> UUID:
        """Register a petition now; returns its id."""
        overrides.setdefault("received_at", self.clock.now)
        return self.service.register(**registration(**overrides)).petition.id

    def do(self, command: str, pid: UUID, actor: str = "handler1", wait: float = 0,
           **kwargs: Any) -> Any:
        """Advance the clock by `wait` days and an hour, then carry out a command as `actor`."""
        self.clock.advance(days=wait)
        return getattr(self.service, command)(pid, actor=actor, **kwargs).petition

    def case_in(self, status: str) -> UUID:
        """A new case brought to `status` (or `served_after_review`) by the usual path."""
        pid = self.register()
        if status == "registered":
            return pid
        if status == "forwarded":
            self.do("assign", pid, **STEPS["forwarded"][1])
            return pid
        for step in PATH:
            command, kwargs = STEPS[step]
            self.do(command, pid, **kwargs)
            if step == status:
                return pid
        raise ValueError(status)
