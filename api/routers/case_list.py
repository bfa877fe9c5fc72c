"""The case list: GET /api/v1/petitions, a page from the list view."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from api.deps import FRESH_RESPONSES, CurrentUser, Fresh, Services, require
from api.render import CASE_READERS
from api.schemas import Day
from projections.case_list import unit_paths
from projections.case_list_read import ListQuery, list_cases

router = APIRouter(prefix="/api/v1/petitions", tags=["petitions"])
Status = Literal["registered", "forwarded", "assigned", "accepted", "replied", "served",
                 "review_requested", "review_decided", "rereview_requested", "redirected",
                 "declined", "closed", "final"]


class CaseListItem(BaseModel):
    """One case in a list (no personal data)."""

    id: str
    case_number: str
    status: str
    channel: str
    category: str
    summary: str
    receiving_unit: str
    location_unit: str
    responsible_unit: str
    responsible_person: str
    received_at: datetime
    next_due: date | None
    overdue: bool
    urgent: bool
    headcount: int
    version: int


class CaseListPage(BaseModel):
    """A page of cases, newest first, and the cursor of the next page."""

    items: list[CaseListItem]
    next_cursor: str | None


@router.get("", response_model=CaseListPage, summary="A page of cases from the list view",
            responses={401: {"description": "no or bad token"},
                       403: {"description": "your role may not read cases, or the unit is not yours"},
                       422: {"description": "invalid filter"}, **FRESH_RESPONSES})
def list_petitions(
    user: CurrentUser, services: Services, _fresh: Fresh,
    status: Status | None = None,
    unit: Annotated[str | None, Query(max_length=64, description="a unit's subtree")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    channel: Literal["letter", "visit", "phone", "online", "email"] | None = None,
    overdue: bool | None = None,
    received_from: Annotated[Day | None, Query(alias="from")] = None,
    received_to: Annotated[Day | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=100, description="words in summary or content")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Cases of the caller's subtree, filtered, newest first, a keyset page at a time."""
    require(user, *CASE_READERS)
    directory, views = services.directory, services.views
    path = unit_paths(directory.ancestors)
    unit_path = None
    if unit is not None:
        directory.unit(unit)
        if not directory.within(unit, user.unit):
            raise HTTPException(403, "unit: you may list only your own unit and the units below it")
        unit_path = path(unit)
    today = datetime.now(UTC).astimezone(services.petitions.policy.tz).date()
    rows, next_cursor = list_cases(views, ListQuery(
        within_path=path(user.unit), status=status, unit_path=unit_path, category=category,
        channel=channel, overdue=overdue, received_from=received_from, received_to=received_to,
        q=q, limit=limit, cursor=cursor), today)
    items = [{**r, "overdue": bool(r["has_missed"]) or (r["next_due"] is not None
                                                          and r["next_due"] < today.isoformat()),
              "urgent": bool(r["urgent"])} for r in rows]
    return {"items": items, "next_cursor": next_cursor}
