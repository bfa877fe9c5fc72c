"""The responsibility view: per unit and per person over a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import FRESH_RESPONSES, CurrentUser, Fresh, Services, require, subtree_path
from api.schemas import Day
from domain.errors import InvalidField
from projections.responsibility import responsibility

router = APIRouter(prefix="/api/v1", tags=["responsibility"])


@router.get("/responsibility", summary="Who was responsible for what (责任追究)",
            responses={401: {"description": "no or bad token"},
                       403: {"description": "your role may not read this, or the unit is not yours"},
                       422: {"description": "invalid period or unit"}, **FRESH_RESPONSES})
def read_responsibility(
    user: CurrentUser, services: Services, _fresh: Fresh,
    unit: Annotated[str | None, Query(max_length=64, description="a unit's subtree; default yours")] = None,
    start: Annotated[Day | None, Query(alias="from", description="first day; default 90 days ago")] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day; default today")] = None,
) -> dict[str, Any]:
    """Cases received, open, closed; deadlines met and missed (charged to whoever was responsible
    when it happened); on-time and satisfaction rates; escalations, supervisions, package cases."""
    require(user, "leader", "auditor")
    today = datetime.now(UTC).astimezone(services.petitions.policy.tz).date()
    end = end or today
    start = start or end - timedelta(days=90)
    if start > end:
        raise InvalidField("from", "must not be after `to`")
    return responsibility(services.views, subtree_path(services, user, unit), start, end)
