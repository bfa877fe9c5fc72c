"""A petition as the caller may see it: jurisdiction first, then masking of personal data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from api.schemas import DeadlinePublic, PetitionPublic, WarningPublic
from api.security import Principal
from domain.directory import DirectoryService
from domain.errors import CaseNotFound
from domain.petition import Petition
from domain.rules import WarningRules
from domain.validation import mask_id_number, mask_phone
from domain.warnings import case_warnings

Schema = TypeVar("Schema", bound=PetitionPublic)

# Roles that work with petitioners directly see their personal data; the others see it masked.
UNMASKED_ROLES = frozenset({"reception", "handler"})
CASE_READERS = ("reception", "handler", "leader", "auditor")


def visible(petition: Petition, principal: Principal, directory: DirectoryService) -> bool:
    """True when the case's responsible or location unit lies in the caller's subtree."""
    return any(directory.within(code, principal.unit)
               for code in (petition.responsible_unit, petition.location_unit))


def check_visible(petition: Petition, principal: Principal, directory: DirectoryService) -> None:
    """404 (as for an unknown id) when the case is outside the caller's jurisdiction."""
    if principal.role not in CASE_READERS or not visible(petition, principal, directory):
        raise CaseNotFound("no such case")


def mask_address(value: str) -> str:
    """Keep the first few characters of an address."""
    return value[:4] + "****" if len(value) > 4 else "****"


def petitioners(petition: Petition, principal: Principal) -> list[dict[str, Any]]:
    """The petitioners, masked for roles that do not need their personal data."""
    if principal.role in UNMASKED_ROLES:
        return [dict(p) for p in petition.petitioners]
    return [
        {
            "name": p["name"],
            "id_number": mask_id_number(p["id_number"]) if p.get("id_number") else None,
            "phone": mask_phone(p["phone"]) if p.get("phone") else None,
            "address": mask_address(p["address"]) if p.get("address") else None,
        }
        for p in petition.petitioners
    ]


def public(petition: Petition, principal: Principal, now: datetime | None = None, *,
           rules: WarningRules) -> dict[str, Any]:
    """The response body of a petition for this caller; its warnings by the rules in force at `now`."""
    return public_model(petition, principal, now, rules=rules).model_dump(mode="json")


def public_model(petition: Petition, principal: Principal, now: datetime | None = None, *,
                 rules: WarningRules, schema: type[Schema] = PetitionPublic,  # type: ignore[assignment]
                 **extra: Any) -> Schema:
    """The petition as `schema` (validated) for this caller, with `extra` fields of that schema."""
    today = petition.office_date(now or datetime.now(UTC))
    return schema(
        id=str(petition.id),
        case_number=petition.case_number,
        status=petition.status,
        channel=petition.channel,
        received_at=petition.received_at,
        registered_at=petition.registered_at,
        registered_by=petition.registered_by,
        receiving_unit=petition.receiving_unit,
        location_unit=petition.location_unit,
        petitioners=petitioners(petition, principal),
        headcount=petition.headcount,
        category=petition.category,
        summary=petition.summary,
        content=petition.content,
        urgent=petition.urgent,
        key_person=petition.key_person,
        responsible_unit=petition.responsible_unit,
        responsible_person=petition.responsible_person,
        package_leader=petition.package_leader,
        supervision_level=petition.supervision_level,
        escalations=petition.escalations,
        extension=petition.extension,
        opinion=petition.opinion,
        outcome=petition.outcome,
        ratings=petition.ratings,
        related_case_number=petition.related_case_number,
        deadlines=[DeadlinePublic(clock=d.clock, starts=d.starts, due=d.due, status=d.status,
                                  rule=d.rule, calendar=d.calendar) for d in petition.deadlines],
        warnings=[WarningPublic(rule=w.rule, level=w.level, detail=w.detail)
                  for w in case_warnings(petition, today, rules.due_soon_days, rules.due_soon_share,
                                         rules.group_orange, rules.group_red)],
        age_days=petition.age_days(today),
        silent_days=petition.silent_days(today),
        version=petition.version,
        **extra,
    )
