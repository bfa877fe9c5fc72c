"""The early-warning rule settings: GET (leaders, auditors, admins) and PUT (the office's admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import Field

from api.deps import CurrentUser, Directory, Petitions, Writer, require
from api.routers.petitions import written
from api.schemas import Strict
from domain import intake
from domain.errors import InvalidField
from domain.requests import AlreadyDone
from domain.rules import MAX_PERIODS, WarningRules

router = APIRouter(prefix="/api/v1/warning-rules", tags=["warnings"])
DEFAULTS = WarningRules()
# Plain ISO text only: pydantic would also take a number as a Unix timestamp.
DAY = r"^\d{4}-\d{2}-\d{2}$"
MOMENT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"


class SensitivePeriodBody(Strict):
    """A sensitive period (敏感时期): national holidays, congress sessions, local dates."""

    name: str = Field(min_length=1, max_length=100, description="e.g. 国庆, 两会")
    start: str = Field(pattern=DAY, json_schema_extra={"format": "date"},
                       description="first day (YYYY-MM-DD), in the office's dates")
    end: str = Field(pattern=DAY, json_schema_extra={"format": "date"}, description="last day, included")


def number(name: str, description: str) -> Any:
    """A numeric setting: its default from the domain; strict, so `true` or "3" is refused."""
    return Field(default=getattr(DEFAULTS, name), strict=True, description=description)


class WarningRulesBody(Strict):
    """The thresholds of the warning rules (预警规则); a field left out takes its default."""

    due_soon_days: int = number("due_soon_days", "due soon: at most this many days left")
    due_soon_share: float = number("due_soon_share", "due soon: or at most this share of the clock left")
    group_orange: int = number("group_orange", "group petition: headcount for orange")
    group_red: int = number("group_red", "group petition: headcount for red")
    repeat_days: int = number("repeat_days", "repeat: the same petitioner again within this many days")
    hotspot_count: int = number("hotspot_count", "hotspot: this many petitions of one category in one area")
    hotspot_days: int = number("hotspot_days", "hotspot: within this many days")
    after_final_days: int = number("after_final_days", "after final: how long the warning stands")
    supervision_grace_days: int = number("supervision_grace_days",
                                         "overdue beyond this many days: supervision is due")
    revisit_remind_days: int = number("revisit_remind_days",
                                      "remind of a revisit this many days before it is due")
    sensitive_periods: list[SensitivePeriodBody] = Field(
        default_factory=list, max_length=MAX_PERIODS,
        description="during these, open cases' warnings go up a level and key persons show")


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or bad token"},
    403: {"description": "your role may not do this"},
    409: {"description": "changed by someone else at the same moment"},
    422: {"description": "invalid settings; the message names the field"},
}


@router.get("", response_model=WarningRulesBody, responses=ERRORS,
            summary="The early-warning rule settings, now or as recorded by a past moment")
def read_rules(user: CurrentUser, service: Petitions, as_of: Annotated[str | None, Query(
        pattern=MOMENT, description="record time with its offset, e.g. 2026-10-01T08:00:00+08:00: "
        "the settings in force then; default now")] = None) -> dict[str, Any]:
    """The settings in force (the domain page's defaults until an administrator changes them)."""
    require(user, "leader", "auditor", "admin")
    return service.warning_rules(moment(as_of)).to_dict()


def moment(text: str | None) -> datetime | None:
    """The `as_of` parameter, or an error naming it."""
    if text is None:
        return None
    try:
        return intake.aware(datetime.fromisoformat(text), "as_of")
    except ValueError:
        raise InvalidField("as_of", "is not a date and time") from None


@router.put("", response_model=WarningRulesBody, responses=ERRORS,
            summary="Change the early-warning rule settings (admin)")
def change_rules(body: WarningRulesBody, write: Writer, service: Petitions,
                 directory: Directory) -> Response:
    """Replace the settings; the board applies them from the moment they are recorded."""
    user, request = write.user, write.request
    require(user, "admin")
    if directory.unit(user.unit).parent is not None:
        raise HTTPException(403, "the warning rules hold for the whole office: only an administrator "
                                 "of the top unit may change them")
    rules = WarningRules.from_dict(body.model_dump(mode="json"))
    try:
        notification_id = service.set_warning_rules(rules, actor=user.username, request=request)
    except AlreadyDone as done:
        return written(service.warning_rules(version=done.record.version).to_dict(), 200, None)
    return written(rules.to_dict(), 200, notification_id)
