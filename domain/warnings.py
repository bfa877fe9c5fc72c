"""Early-warning rules (预警) that one case decides alone; board-wide rules live in the views."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from domain.petition_state import PetitionState

LEVELS = ("blue", "yellow", "orange", "red")


class Warning(NamedTuple):
    """A raised warning: its rule, level, and what it is about (a tuple: the views work out
    every case's warnings after each of its events)."""

    rule: str
    level: str
    detail: str


def case_warnings(petition: PetitionState, today: date | None, due_soon_days: int = 3,
                  due_soon_share: float = 0.2, group_orange: int = 5, group_red: int = 50) -> list[Warning]:
    """The warnings this case raises on `today`, by the given thresholds (the domain page's defaults).
    With no `today`, those that depend on no day: overdue only once recorded missed, no due soon
    (the board's event-driven rules, worked out after every event of a case)."""
    found: list[Warning] = []
    for d in petition.deadlines:
        if d.status != "missed" and (d.status != "open" or today is None):
            continue  # met or suspended: nothing to warn of; open: only on a day
        if d.is_petitioner_window or not d.is_running:
            continue
        if d.status == "missed" or (today is not None and d.due < today):
            found.append(Warning("overdue", "red", f"{d.clock} was due {d.due.isoformat()}"))
        elif today is not None:
            left = (d.due - today).days
            length = max((d.due - d.starts).days, 1)
            if left <= due_soon_days or left <= due_soon_share * length:
                found.append(Warning("due_soon", "yellow",
                                     f"{d.clock} is due {d.due.isoformat()} ({left} days left)"))
    # What a group or a dissatisfied petitioner calls for ends with the case (closed, final,
    # declined, redirected); an overdue revisit does not, so overdue stands on an ended case too.
    if not petition.is_open:
        return found
    if petition.headcount >= group_orange:
        level = "red" if petition.headcount >= group_red else "orange"
        found.append(Warning("group", level, f"group petition of {petition.headcount} people"))
    if petition.urgent and not petition.escalations:
        found.append(Warning("urgent", "red", "flagged urgent at registration: escalate at once"))
    if petition.tier >= 1 or any(r["satisfaction"] == "dissatisfied" for r in petition.ratings):
        found.append(Warning("dissatisfied", "yellow",
                             "the petitioner asked for a review" if petition.tier >= 1
                             else "the petitioner rated the answer dissatisfied"))
    return found
