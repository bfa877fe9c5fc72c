"""Request and response bodies, named for their use; descriptions carry the domain's meaning."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from domain.intake import FIRST_YEAR, LAST_YEAR

Text = Field(min_length=1, max_length=2000)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _in_years(value: object) -> object:
    year = value.year if isinstance(value, date) else int(str(value)[:4])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"must lie between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _day_text(value: object) -> object:
    """Only an ISO date: pydantic alone would also read a number as a Unix time."""
    if isinstance(value, date) or (isinstance(value, str) and _DAY.match(value)):
        return _in_years(value)
    raise ValueError("must be a date written YYYY-MM-DD")


def _moment_text(value: object) -> object:
    """Only an ISO date and time with its offset (a number is not a time)."""
    if isinstance(value, datetime) or (isinstance(value, str) and _MOMENT.match(value)):
        return _in_years(value)
    raise ValueError("must be a date and time written YYYY-MM-DDTHH:MM[:SS]+08:00")


Day = Annotated[date, BeforeValidator(_day_text)]
Moment = Annotated[AwareDatetime, BeforeValidator(_moment_text)]


class Strict(BaseModel):
    """Unknown fields are refused, so a misspelt field is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PetitionerIn(Strict):
    """One petitioner (信访人); for a group, one of at most five representatives."""

    name: str = Field(min_length=1, max_length=50, description="姓名")
    id_number: str | None = Field(None, max_length=30, description="18-digit resident ID (身份证号)")
    phone: str | None = Field(None, max_length=30, description="mobile or landline (联系电话)")
    address: str | None = Field(None, max_length=200, description="住址")


class PetitionCreate(Strict):
    """A petition as reception registers it (登记)."""

    channel: Literal["letter", "visit", "phone", "online", "email"] = Field(
        description="信访形式: letter 来信, visit 来访, phone 来电, online 网上, email 电子邮件")
    received_at: Moment = Field(description="when the office received it (收到时间)")
    receiving_unit: str | None = Field(None, max_length=64,
                                       description="unit code that received it; default: yours")
    location_unit: str = Field(max_length=64, description="unit code where the matter arose (问题属地)")
    petitioners: list[PetitionerIn] = Field(min_length=1, max_length=5)
    headcount: int = Field(1, ge=1, le=100000, description="people present; 5 or more is a group (集体访)")
    category: str = Field(min_length=1, max_length=64, description="问题类别")
    summary: str = Field(min_length=1, max_length=200, description="one line (内容摘要)")
    content: str = Field(min_length=1, max_length=50000, description="the full text (信访内容)")
    urgent: bool = Field(False, description="major or urgent: must be escalated at once (重大紧急)")
    key_person: bool = Field(False, description="key person (重点人员)")
    same_matter_as: str | None = Field(
        None, max_length=64, description="case number or id of an earlier case on the same matter")
    at: Moment | None = Field(None, description="registration time; default now")


class DeadlinePublic(BaseModel):
    """A statutory time limit of the case (办理时限)."""

    clock: str
    starts: date
    due: date
    status: Literal["open", "met", "missed", "suspended"]
    rule: str
    calendar: str


class WarningPublic(BaseModel):
    """An early warning (预警) the case raises now."""

    rule: str
    level: Literal["blue", "yellow", "orange", "red"]
    detail: str


class PetitionerPublic(BaseModel):
    """A petitioner; ID number, phone and address are masked for roles that do not need them."""

    name: str
    id_number: str | None
    phone: str | None
    address: str | None


class PetitionPublic(BaseModel):
    """A petition as it is (or was, with as_of)."""

    id: str
    case_number: str = Field(description="案件编号, e.g. XF-2026-000123")
    status: str
    channel: str
    received_at: datetime
    registered_at: datetime
    registered_by: str
    receiving_unit: str
    location_unit: str
    petitioners: list[PetitionerPublic]
    headcount: int
    category: str
    summary: str
    content: str
    urgent: bool
    key_person: bool
    responsible_unit: str = Field(description="责任单位")
    responsible_person: str = Field(description="责任人 (first-inquiry: the registrar until assigned)")
    package_leader: str | None = Field(description="包案领导")
    supervision_level: str | None = Field(description="督办 level")
    escalations: list[dict[str, str]]
    extension: dict[str, object] | None
    opinion: str | None
    outcome: str | None
    ratings: list[dict[str, object]]
    related_case_number: str | None
    deadlines: list[DeadlinePublic]
    warnings: list[WarningPublic]
    age_days: int = Field(description="days since receipt")
    silent_days: int = Field(description="days since the petitioner last heard from the office")
    version: int = Field(description="send as expected_version to refuse acting on a stale view")


class ReceiptPublic(PetitionPublic):
    """A new petition, with the code printed on the petitioner's receipt (shown once)."""

    access_code: str | None = Field(description="查询码 for the petitioner's progress query")


class HistoryEntryPublic(BaseModel):
    """One event of the case."""

    version: int
    type: str
    at: datetime | None = Field(description="business time: when it happened")
    recorded_at: datetime = Field(description="record time: when the system stored it")
    actor: str | None
    data: dict[str, object]


class ProgressPublic(BaseModel):
    """What a petitioner may see of their case: nothing personal."""

    case_number: str
    status: str
    status_text: str
    received_on: date
    next_deadline: DeadlinePublic | None


class UnitCreate(Strict):
    """A unit in the tree (county → township → village → group)."""

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    level: Literal["county", "township", "village", "group"]
    parent: str | None = Field(None, max_length=64)


class UnitPublic(BaseModel):
    """A unit."""

    code: str
    name: str
    level: str
    parent: str | None


class UserCreate(Strict):
    """A member of staff."""

    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=8, max_length=200)
    role: Literal["reception", "handler", "leader", "auditor", "admin"]
    unit: str = Field(min_length=1, max_length=64)


class UserPublic(BaseModel):
    """A member of staff (never the password)."""

    username: str
    role: str
    unit: str
    active: bool


class TokenPublic(BaseModel):
    """A bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
