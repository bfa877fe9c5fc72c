"""The petitioner's own progress query: case number and receipt code, no login, rate-limited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.deps import Petitions
from api.ratelimit import RateLimited
from api.schemas import ProgressPublic
from domain.errors import CaseNotFound
from domain.petition_state import STATUS_WORDS

router = APIRouter(prefix="/api/v1", tags=["progress"])
_limit = RateLimited("progress")


@router.get("/progress", response_model=ProgressPublic,
            responses={404: {"description": "no case with this number and code"},
                       429: {"description": "too many queries from this address"}})
def progress(service: Petitions, _: Annotated[None, Depends(_limit)],
             case_number: Annotated[str, Query(min_length=1, max_length=32)],
             code: Annotated[str, Query(min_length=1, max_length=32,
                                        description="the code printed on the receipt")]) -> dict[str, Any]:
    """Status and next deadline of a case, for the petitioner holding its receipt."""
    petition = service.check_access_code(case_number, code)
    if petition is None:
        raise CaseNotFound("no case with this number and code; check both on your receipt")
    running = sorted((d for d in petition.deadlines if d.is_running and not d.is_petitioner_window),
                     key=lambda d: d.due)
    nxt = running[0] if running else None
    return {
        "case_number": petition.case_number,
        "status": petition.status,
        "status_text": STATUS_WORDS[petition.status],
        "received_on": petition.office_date(petition.received_at),
        "next_deadline": None if nxt is None else {
            "clock": nxt.clock, "starts": nxt.starts, "due": nxt.due, "status": nxt.status,
            "rule": nxt.rule, "calendar": nxt.calendar},
        "checked_at": datetime.now(UTC).isoformat(),
    }
