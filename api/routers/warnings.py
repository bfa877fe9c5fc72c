"""The early-warning board: GET /api/v1/warnings, now or as it stood at a past moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import FRESH_RESPONSES, CurrentUser, Fresh, Services, require, subtree_path
from api.render import CASE_READERS
from api.schemas import Moment
from projections.board_read import board_page

router = APIRouter(prefix="/api/v1", tags=["warnings"])
NEXT = "X-Next-Cursor"
PAGED: dict[int | str, dict[str, Any]] = {200: {"description": (
    "the warnings of this page; when more stand, the header X-Next-Cursor holds the `cursor` of "
    "the next page (absent on the last page)"), "headers": {NEXT: {
        "description": "the cursor of the next page, when there is one", "schema": {"type": "string"}}}}}


class BoardWarning(BaseModel):
    """A warning on the board: rule, level, case, who was responsible when it was raised."""

    petition_id: str
    case_number: str
    rule: str
    level: Literal["red", "orange", "yellow", "blue"]
    detail: str
    responsible_unit: str
    responsible_person: str
    raised_at: datetime
    cleared_at: datetime | None


@router.get("/warnings", response_model=list[BoardWarning], summary="The early-warning board (预警)",
            responses={401: {"description": "no or bad token"},
                       403: {"description": "your role may not read the board, or the unit is not yours"},
                       422: {"description": "invalid filter"}, **FRESH_RESPONSES, **PAGED})
def read_warnings(
    user: CurrentUser, services: Services, _fresh: Fresh, response: Response,
    unit: Annotated[str | None, Query(max_length=64, description="a unit's subtree; default yours")] = None,
    level: Literal["red", "orange", "yellow", "blue"] | None = None,
    rule: Annotated[str | None, Query(max_length=32)] = None,
    as_of: Annotated[Moment | None, Query(
        description="record time: the board as it stood then; default now")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="warnings per page")] = 500,
    cursor: Annotated[str | None, Query(max_length=400, description=(
        "the X-Next-Cursor of the previous page: the next page of the same board (its as_of)"))] = None,
) -> list[dict[str, Any]]:
    """Warnings standing in the caller's subtree, most severe first; during a sensitive period
    open cases' warnings are one level up and key persons' open cases show (rule sensitive_period).
    A page at a time, newest first within a level; X-Next-Cursor names the next page."""
    require(user, *CASE_READERS)
    rows, next_cursor = board_page(services.views, subtree_path(services, user, unit),
                                   as_of.astimezone(UTC) if as_of else None, services.petitions.policy.tz,
                                   level=level, rule=rule, limit=limit, cursor=cursor)
    if next_cursor is not None:
        response.headers[NEXT] = next_cursor
    return rows
