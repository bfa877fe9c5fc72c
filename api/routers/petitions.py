"""Petitions: register one, read it now or as of a past moment, read its history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.deps import CurrentUser, Directory, Petitions, Services, Writer, require
from api.render import CASE_READERS, check_visible, public, public_model
from api.schemas import HistoryEntryPublic, Moment, PetitionCreate, PetitionPublic, ReceiptPublic
from domain.reading import plain
from domain.requests import AlreadyDone, RequestKey

router = APIRouter(prefix="/api/v1/petitions", tags=["petitions"])
PetitionId = Annotated[str, Path(max_length=64, description="the petition's id or case number")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or bad token"},
    403: {"description": "your role may not do this"},
    404: {"description": "no such case (or outside your jurisdiction)"},
    409: {"description": "the action does not fit the case's state, or the case changed (conflict)"},
    422: {"description": "invalid input; the message names the field"},
}


def written(body: BaseModel | dict[str, Any], status: int, notification_id: int | None) -> Response:
    """A write's answer, with the notification id read models can be waited on with.

    A validated model is written to JSON by pydantic directly (no dict in between)."""
    headers = {"X-Notification-Id": str(notification_id)} if notification_id is not None else {}
    if isinstance(body, BaseModel):
        return Response(body.model_dump_json(), status, headers, media_type="application/json")
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("", status_code=201, response_model=ReceiptPublic, responses=ERRORS,
             summary="Register a petition (登记)")
def register(body: PetitionCreate, write: Writer, services: Services) -> Response:
    """Register a letter, visit, call or online petition; the caller is first-inquiry responsible."""
    user, request = write.user, write.request
    service, directory = services.petitions, services.directory
    require(user, "reception")
    receiving = body.receiving_unit or user.unit
    directory.unit(receiving, field="receiving_unit")
    directory.unit(body.location_unit, field="location_unit")
    if not directory.within(receiving, user.unit):
        raise HTTPException(403, "receiving_unit: you may register only for your own unit or a unit "
                                 "below it")
    keyed = RequestKey(request.caller, request.key, request.fingerprint, 201) if request else None
    try:
        receipt = service.register(
            actor=user.username, channel=body.channel, received_at=body.received_at,
            receiving_unit=receiving, location_unit=body.location_unit,
            petitioners=[p.model_dump() for p in body.petitioners], headcount=body.headcount,
            category=body.category, summary=body.summary, content=body.content,
            urgent=body.urgent, key_person=body.key_person, at=body.at,
            same_matter_as=body.same_matter_as, request=keyed,
        )
    except AlreadyDone as done:
        petition = service.get(done.record.resource_id, version=done.record.version)
        return written(public_model(petition, user, rules=service.warning_rules(), schema=ReceiptPublic,
                                    access_code=service.receipt_code(petition)),
                       done.record.status_code, None)
    return written(public_model(receipt.petition, user, rules=service.warning_rules(),
                                schema=ReceiptPublic, access_code=receipt.access_code),
                   201, receipt.notification_id)


@router.get("/{petition_id}", response_model=PetitionPublic, responses=ERRORS,
            summary="A petition now, or as recorded by a past moment")
def read(petition_id: PetitionId, user: CurrentUser, service: Petitions, directory: Directory,
         as_of: Annotated[Moment | None, Query(
             description="record time: the case as the system had recorded it by then")] = None,
         ) -> dict[str, Any]:
    """The case with its deadlines and warnings, now or as they stood at `as_of`."""
    require(user, *CASE_READERS)
    current = service.get(petition_id)
    check_visible(current, user, directory)
    if as_of is None:
        return public(current, user, rules=service.warning_rules())
    return public(service.get_as_of(current.id, as_of), user, now=as_of,
                  rules=service.warning_rules(as_of=as_of))


@router.get("/{petition_id}/history", response_model=list[HistoryEntryPublic], responses=ERRORS,
            summary="Every event of the case")
def history(petition_id: PetitionId, user: CurrentUser, service: Petitions,
            directory: Directory) -> list[dict[str, Any]]:
    """Each event with its type, business time, record time, actor and data."""
    require(user, *CASE_READERS)
    current = service.get(petition_id)
    check_visible(current, user, directory)
    masked = public(current, user, rules=service.warning_rules())["petitioners"]
    entries = []
    for entry in service.history(current.id):
        data = dict(entry.data)
        if "petitioners" in data:
            data["petitioners"] = masked
        data.pop("access_code_digest", None)
        entries.append({"version": entry.version, "type": entry.type, "at": plain(entry.at),
                        "recorded_at": plain(entry.recorded_at), "actor": entry.actor, "data": data})
    return entries
