"""Actions on a petition: POST /api/v1/petitions/{id}/<action>, each returning the petition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import Field

from api.deps import Directory, Petitions, Writer, require
from api.render import check_visible, public_model
from api.routers.petitions import ERRORS, PetitionId, written
from api.schemas import Moment, PetitionPublic, Strict
from api.security import Principal
from domain.directory import DirectoryService
from domain.errors import InvalidField
from domain.petition import Petition
from domain.requests import AlreadyDone
from domain.service import PetitionService

router = APIRouter(prefix="/api/v1/petitions", tags=["actions"])
Reason = Field(min_length=1, max_length=2000, description="why (recorded on the case)")
Body = Field(min_length=1, max_length=20000)
Opinion = Literal["support", "explain", "not_support"]


class Action(Strict):
    """Fields every action takes."""

    note: str | None = Field(None, max_length=2000)
    at: Moment | None = Field(None, description="business time; default now, never future")
    expected_version: int | None = Field(
        None, ge=1, description="the version you acted on: refused with 409 if the case has moved on")


class AssignBody(Action):
    """Forward (转送) or assign (交办) to the competent unit."""

    unit: str = Field(min_length=1, max_length=64)
    person: str | None = Field(None, max_length=64, description="user name of the responsible person")
    mode: Literal["forward", "assign"]


class RedirectBody(Action):
    """Tell the petitioner where to go (告知): congress, court, procuratorate, arbitration."""

    to: str = Field(min_length=1, max_length=200)
    reason: str = Reason


class ReasonBody(Action):
    """An action that needs a reason."""

    reason: str = Reason


class NoteBody(Action):
    """Investigation, mediation or other work."""

    text: str = Body
    kind: Literal["investigation", "mediation", "other"]


class ExtendBody(Action):
    """The one extension (延期) of the handling limit."""

    days: int = Field(ge=1, le=30)
    reason: str = Reason
    approved_by: str = Field(min_length=1, max_length=64, description="user name of the approving leader")


class ClockBody(Action):
    """Stop or restart the clock (hearing 听证, awaiting material 补充材料)."""

    reason: str = Reason
    clock: Literal["triage", "acceptance", "handling", "review_decision", "rereview_decision"] | None = None


class OpinionBody(Action):
    """A handling opinion or a review decision."""

    opinion: Opinion
    text: str = Body


class ServeBody(Action):
    """Service (送达) on the petitioner."""

    served_at: Moment | None = Field(None, description="when it was served; default now")


class RateBody(Action):
    """The petitioner's rating (满意度评价)."""

    satisfaction: Literal["satisfied", "basically_satisfied", "dissatisfied"]


class RequestBody(Action):
    """The petitioner's request for review or re-review."""

    reason: str = Reason
    unit: str | None = Field(None, max_length=64, description="the unit that will decide")


class EscalateBody(Action):
    """Report upward (上报)."""

    to_unit: str = Field(min_length=1, max_length=64)
    reason: str = Reason


class SuperviseBody(Action):
    """Order supervision (督办)."""

    level: Literal["normal", "yellow", "red"]
    reason: str = Reason


class TextBody(Action):
    """A report back to the supervising unit."""

    text: str = Body


class PackageBody(Action):
    """Name the package leader (领导包案)."""

    leader: str = Field(min_length=1, max_length=64)


class RevisitBody(Action):
    """A revisit (回访)."""

    outcome: str = Field(min_length=1, max_length=200)
    text: str = Body


Check = Callable[[Action, Petition, Principal, DirectoryService], None]


def _user_in(directory: DirectoryService, username: str | None, field: str, roles: tuple[str, ...],
             under: str | None = None) -> None:
    user = directory.user(username) if username else None
    if user is None or not user.active or user.role not in roles:
        raise InvalidField(field, f"must name an active user with the role {' or '.join(roles)}")
    if under is not None and not directory.within(user.unit, under):
        raise InvalidField(field, f"must be a member of {under} or a unit below it")


def check_assign(body: Any, petition: Petition, user: Principal, directory: DirectoryService) -> None:
    """The unit must exist; a named person must be a handler of it."""
    directory.unit(body.unit)
    if body.person:
        _user_in(directory, body.person, "person", ("handler", "leader"), under=body.unit)


def check_extend(body: Any, petition: Petition, user: Principal, directory: DirectoryService) -> None:
    """The approver must be a leader at or above the responsible unit."""
    _user_in(directory, body.approved_by, "approved_by", ("leader",))
    approver = directory.user(body.approved_by)
    if approver is None or not directory.within(petition.responsible_unit, approver.unit):
        raise InvalidField("approved_by", "must be a leader of the responsible unit or a unit above it")


def check_supervise(body: Any, petition: Petition, user: Principal, directory: DirectoryService) -> None:
    """Supervision is ordered by a unit above the responsible one."""
    if user.unit == petition.responsible_unit or not directory.within(petition.responsible_unit, user.unit):
        raise HTTPException(403, "supervision is ordered by a unit above the responsible unit")


def check_units(*fields: str) -> Check:
    """The named unit fields, when given, must name units."""
    def check(body: Any, petition: Petition, user: Principal, directory: DirectoryService) -> None:
        for field in fields:
            if getattr(body, field, None):
                directory.unit(getattr(body, field), field=field)
    return check


def check_leader(body: Any, petition: Petition, user: Principal, directory: DirectoryService) -> None:
    """The package leader must be a leader with the case in their jurisdiction."""
    _user_in(directory, body.leader, "leader", ("leader",))
    leader = directory.user(body.leader)
    if leader is None or not directory.within(petition.responsible_unit, leader.unit):
        raise InvalidField("leader", "must be a leader of the responsible unit or a unit above it")


# path, body, service method, roles, extra check, summary
ACTIONS: list[tuple[str, type[Action], str, tuple[str, ...], Check | None, str]] = [
    ("assign", AssignBody, "assign", ("reception",), check_assign, "Forward or assign (转送/交办)"),
    ("redirect", RedirectBody, "redirect", ("reception",), None, "Redirect (告知); ends the case"),
    ("decline", ReasonBody, "decline", ("reception", "handler"), None, "Decline (不予受理)"),
    ("accept", Action, "accept", ("handler",), None, "Accept (受理); handling clock starts"),
    ("notes", NoteBody, "add_note", ("reception", "handler", "leader"), None, "Add a note"),
    ("extend", ExtendBody, "extend", ("handler", "leader"), check_extend, "Extend once (延期)"),
    ("suspend-clock", ClockBody, "suspend_clock", ("handler",), None, "Suspend the clock"),
    ("resume-clock", ReasonBody, "resume_clock", ("handler",), None, "Resume the clock"),
    ("reply", OpinionBody, "reply", ("handler",), None, "Issue the opinion (处理意见书)"),
    ("serve", ServeBody, "serve", ("reception", "handler"), None, "Serve on the petitioner (送达)"),
    ("rate", RateBody, "rate", ("reception", "handler"), None, "Record satisfaction"),
    ("request-review", RequestBody, "request_review", ("reception", "handler"),
     check_units("unit"), "Record a request for review (复查)"),
    ("decide-review", OpinionBody, "decide_review", ("handler", "leader"), None, "Decide the review"),
    ("request-rereview", RequestBody, "request_rereview", ("reception", "handler"),
     check_units("unit"), "Record a request for re-review (复核)"),
    ("decide-rereview", OpinionBody, "decide_rereview", ("handler", "leader"), None,
     "Decide the re-review; the case becomes final (终结)"),
    ("escalate", EscalateBody, "escalate", ("reception", "handler", "leader"),
     check_units("to_unit"), "Escalate (上报)"),
    ("supervise", SuperviseBody, "supervise", ("leader",), check_supervise, "Order supervision (督办)"),
    ("report-supervision", TextBody, "report_supervision", ("handler",), None,
     "Report back to the supervising unit"),
    ("package", PackageBody, "package", ("leader",), check_leader, "Name the package leader (包案)"),
    ("revisit", RevisitBody, "revisit", ("reception", "handler"), None, "Record a revisit (回访)"),
    ("close", ReasonBody, "close_case", ("handler",), None, "Close a served case (办结)"),
]


def _arguments(body: Action, user: Principal) -> dict[str, Any]:
    args = body.model_dump(exclude={"expected_version", "served_at"}, exclude_none=True)
    if isinstance(body, ServeBody) and body.served_at is not None:
        args["at"] = body.served_at
    if isinstance(body, SuperviseBody):
        args["by_unit"] = user.unit
    args["actor"] = user.username
    return args


def _route(method: str, roles: tuple[str, ...], check: Check | None, body_type: type[Action]) -> Any:
    def act(petition_id: PetitionId, body: Action, write: Writer, service: Petitions,
            directory: Directory) -> Response:
        user, request = write.user, write.request
        require(user, *roles)
        petition = service.get(petition_id)
        check_visible(petition, user, directory)
        if check is not None:
            check(body, petition, user, directory)
        command = getattr(service, method)
        try:
            outcome = command(petition.id, expected_version=body.expected_version, request=request,
                              **_arguments(body, user))
        except AlreadyDone as done:
            return written(public_model(_at_version(service, done.record.resource_id,
                                                    done.record.version),
                                        user, rules=service.warning_rules()), 200, None)
        return written(public_model(outcome.petition, user, rules=service.warning_rules()), 200,
                       outcome.notification_id)

    act.__annotations__["body"] = body_type
    return act


def _at_version(service: PetitionService, petition_id: str, version: int) -> Petition:
    return service.get(petition_id, version=version)


for _path, _body, _method, _roles, _check, _summary in ACTIONS:
    router.add_api_route(
        f"/{{petition_id}}/{_path}", _route(_method, _roles, _check, _body), methods=["POST"],
        response_model=PetitionPublic, responses=ERRORS, summary=_summary,
        description=f"Allowed roles: {', '.join(_roles)}. {(_body.__doc__ or '').strip()}",
        name=_path,
    )
