"""Quarterly and year-end summaries: GET /api/v1/statistics as JSON, CSV or a spreadsheet."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import FRESH_RESPONSES, CurrentUser, Fresh, Services, require, subtree_path
from projections.statistics import Period, summary
from projections.statistics_export import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx

router = APIRouter(prefix="/api/v1", tags=["statistics"])
STATISTICS_READERS = ("leader", "auditor", "admin")


class BreakdownRow(BaseModel):
    """One line of a breakdown: a channel, category, township or status, and how many petitions."""

    key: str
    name: str
    count: int


class StatisticsSummary(BaseModel):
    """The figures of a period within a unit's subtree; rates are fractions (0.75), null with no base."""

    period: str
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    unit: str
    unit_name: str
    received: int
    persons: int
    group_petitions: int
    closed: int
    escalations: int
    supervisions: int
    deadlines_met: int
    deadlines_missed: int
    on_time_rate: float | None
    ratings: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    satisfaction_rate: float | None
    repeat_cases: int
    repeat_rate: float | None
    by_channel: list[BreakdownRow]
    by_category: list[BreakdownRow]
    by_area: list[BreakdownRow]
    by_status: list[BreakdownRow]


@router.get(
    "/statistics", response_model=StatisticsSummary,
    summary="Quarterly and year-end summaries (季度、年度统计)",
    responses={200: {"description": "the summary; `format=csv` or `xlsx` answers a file to download",
                     "content": {"text/csv": {"schema": {"type": "string"}},
                                 XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
               401: {"description": "no or bad token"},
               403: {"description": "your role may not read statistics, or the unit is not yours"},
               422: {"description": "invalid period, unit or format"}, **FRESH_RESPONSES})
def read_statistics(
    user: CurrentUser, services: Services, _fresh: Fresh,
    period: Annotated[str, Query(pattern=r"^[0-9]{4}(-Q[1-4])?$",
                                 description="a quarter (2026-Q3) or a year (2026)")],
    unit: Annotated[str | None, Query(max_length=64, description="a unit's subtree; default yours")] = None,
    fmt: Annotated[Literal["json", "csv", "xlsx"], Query(
        alias="format", description="json, or a file: csv (UTF-8 with BOM) or xlsx")] = "json",
) -> Any:
    """Petitions received by channel, category, area (township) and status; group petitions and
    persons involved; deadlines met and missed (by due date) and the on-time rate; ratings and
    the satisfaction rate; repeat petitions and their rate; closures, escalations, supervisions.
    Cases count when their responsible or location unit lies in the subtree; what the office did
    counts for the unit responsible when it happened."""
    require(user, *STATISTICS_READERS)
    chosen = Period.parse(period)
    within = subtree_path(services, user, unit)
    code = unit or user.unit
    units = services.directory.units()
    figures = summary(services.views, within, chosen, services.petitions.policy.tz, code,
                      lambda c: units[c].name if c in units else c)
    if fmt == "json":
        return figures
    body, media, suffix = ((to_csv(figures), CSV_TYPE, "csv") if fmt == "csv"
                           else (to_xlsx(figures), XLSX_TYPE, "xlsx"))
    filename = f"statistics-{code}-{chosen.label}.{suffix}"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
