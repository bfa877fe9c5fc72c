"""Units (the county → township → village → group tree) and the users who work in them."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.errors import ActionNotAllowed, InvalidField, PetitionError
from domain.requests import RequestKey, check_request, save_with_request

LEVELS = ("county", "township", "village", "group")
ROLES = ("reception", "handler", "leader", "auditor", "admin")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
UNIT_NS = uuid5(NAMESPACE_URL, "petitions:unit")
USER_NS = uuid5(NAMESPACE_URL, "petitions:user")


class UnknownUnit(InvalidField):
    """A unit code that names no unit."""


class AlreadyExists(ActionNotAllowed):
    """A unit code or user name that is already taken."""

    code = "exists"


class Unit(Aggregate):
    """One office in the tree; its id is derived from its code, which keeps codes unique."""

    @event("Created")
    def __init__(self, code: str, name: str, level: str, parent: str | None, actor: str) -> None:
        self.code, self.name, self.level, self.parent = code, name, level, parent
        self.created_by = actor

    @staticmethod
    def create_id(code: str) -> UUID:
        """The id of the unit with this code."""
        return uuid5(UNIT_NS, code)


class User(Aggregate):
    """A member of staff: one role, one unit; the password is stored only as a hash."""

    @event("Created")
    def __init__(self, username: str, password_hash: str, role: str, unit: str, actor: str) -> None:
        self.username, self.password_hash, self.role, self.unit = username, password_hash, role, unit
        self.active = True
        self.created_by = actor

    @staticmethod
    def create_id(username: str) -> UUID:
        """The id of the user with this name."""
        return uuid5(USER_NS, username.lower())

    @event("PasswordChanged")
    def change_password(self, password_hash: str, actor: str) -> None:
        """Replace the password hash."""
        self.password_hash = password_hash

    @event("ActiveChanged")
    def set_active(self, active: bool, actor: str) -> None:
        """Disable or re-enable the account."""
        self.active = active


_UNIT_CREATED = f"{__name__}:Unit.Created"
_USER_CREATED = f"{__name__}:User.Created"


@dataclass(frozen=True)
class UnitInfo:
    """A unit as the rest of the system sees it."""

    code: str
    name: str
    level: str
    parent: str | None


def ancestors(units: Mapping[str, UnitInfo], code: str) -> list[str]:
    """The unit and every unit above it in `units`, nearest first."""
    chain: list[str] = []
    current: str | None = code
    while current is not None and current in units and current not in chain:
        chain.append(current)
        current = units[current].parent
    return chain


class DirectoryService(Application[UUID]):
    """Creates units and users, and answers who may see what in the unit tree."""

    name = "Directory"
    refresh_seconds = 1.0
    # A disabled account or a changed role takes effect on other processes within this time.
    user_cache_seconds = 5.0

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        if not self.env.get("PERSISTENCE_MODULE"):
            raise RuntimeError("PERSISTENCE_MODULE is not set: refusing to run on in-memory storage")
        self._units: dict[str, UnitInfo] = {}
        self._position = 0
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._users: dict[str, tuple[float, User | None]] = {}

    # ---- units ---------------------------------------------------------------------------

    def create_unit(self, *, code: str, name: str, level: str, parent: str | None, actor: str,
                    request: RequestKey | None = None) -> UnitInfo:
        """Add a unit under its parent (a county has none)."""
        check_request(self, request)
        if not isinstance(code, str) or not _CODE.match(code):
            raise InvalidField("code", "use 1-64 letters, digits, '.', '_' or '-'")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            raise InvalidField("name", "must be 1-100 characters")
        if level not in LEVELS:
            raise InvalidField("level", f"must be one of {', '.join(LEVELS)}")
        if parent is None:
            if level != "county":
                raise InvalidField("parent", f"a {level} must have a parent unit")
        else:
            above = self.unit(parent, field="parent")
            if LEVELS.index(level) != LEVELS.index(above.level) + 1:
                expected = LEVELS[LEVELS.index(above.level) + 1] if above.level != "group" else None
                raise InvalidField(
                    "level",
                    f"a unit under a {above.level} must be a {expected}"
                    if expected else "a villager group cannot have units under it",
                )
        unit = Unit(code=code, name=name.strip(), level=level, parent=parent, actor=actor)
        try:
            save_with_request(self, request, unit)
        except IntegrityError:
            raise AlreadyExists(f"a unit with code {code} already exists") from None
        self.units(fresh=True)
        return self.unit(code)

    def units(self, fresh: bool = False) -> dict[str, UnitInfo]:
        """Every unit by code; re-read from the store at most once a second (or now, if `fresh`)."""
        now = time.monotonic()
        if fresh or now - self._checked_at > self.refresh_seconds:
            self._catch_up()
            self._checked_at = now
        return self._units

    def _catch_up(self) -> None:
        # Units are few and only ever added: read what other processes recorded since last time.
        with self._lock:
            units = dict(self._units)
            while True:
                batch = self.recorder.select_notifications(
                    start=self._position + 1, limit=500, topics=[_UNIT_CREATED]
                )
                for notification in batch:
                    self._position = notification.id
                    unit: Any = self.repository.get(UUID(str(notification.originator_id)))
                    units[unit.code] = UnitInfo(unit.code, unit.name, unit.level, unit.parent)
                if len(batch) < 500:
                    self._units = units  # replaced whole: readers never see a half-updated tree
                    return

    def unit(self, code: str, field: str = "unit") -> UnitInfo:
        """The unit with this code, or an error naming the field."""
        found = self.units().get(code) if isinstance(code, str) else None
        if found is None and isinstance(code, str):
            found = self.units(fresh=True).get(code)  # perhaps just added by another process
        if found is None:
            raise UnknownUnit(field, "no unit has this code")
        return found

    def ancestors(self, code: str) -> list[str]:
        """The unit and every unit above it, nearest first."""
        return ancestors(self.units(), code)

    def within(self, code: str | None, ancestor: str) -> bool:
        """True when `code` is `ancestor` or lies below it."""
        return code is not None and ancestor in self.ancestors(code)

    # ---- users ---------------------------------------------------------------------------

    def create_user(self, *, username: str, password_hash: str, role: str, unit: str, actor: str,
                    request: RequestKey | None = None) -> User:
        """Add a member of staff with one role in one unit."""
        check_request(self, request)
        if not isinstance(username, str) or not _USERNAME.match(username):
            raise InvalidField("username", "use 2-64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise InvalidField("role", f"must be one of {', '.join(ROLES)}")
        self.unit(unit)
        user = User(username=username, password_hash=password_hash, role=role, unit=unit, actor=actor)
        try:
            save_with_request(self, request, user)
        except IntegrityError:
            raise AlreadyExists(f"a user named {username} already exists") from None
        return user

    def user(self, username: str) -> User | None:
        """The user with this name, if any (from the store, so always current)."""
        try:
            found: object = self.repository.get(User.create_id(username))
        except (AggregateNotFoundError, PetitionError):
            return None
        return found if isinstance(found, User) else None

    def recent_user(self, username: str) -> tuple[bool, User | None]:
        """(True, the user) when read from the store less than `user_cache_seconds` ago; else
        (False, None), without touching the store (for callers that must not block)."""
        hit = self._users.get(username)
        if hit is not None and time.monotonic() - hit[0] < self.user_cache_seconds:
            return True, hit[1]
        return False, None

    def cached_user(self, username: str) -> User | None:
        """The user, as read from the store at most `user_cache_seconds` ago (for every request)."""
        now = time.monotonic()
        hit = self._users.get(username)
        if hit is not None and now - hit[0] < self.user_cache_seconds:
            return hit[1]
        user = self.user(username)
        if len(self._users) > 10000:
            self._users.clear()
        self._users[username] = (now, user)
        return user

    def users(self) -> list[User]:
        """Every user (for administration pages; offices have hundreds, not millions)."""
        found = []
        for notification in self.recorder.select_notifications(
            start=1, limit=1_000_000, topics=[_USER_CREATED]
        ):
            user = self.user_by_id(UUID(str(notification.originator_id)))
            if user is not None:
                found.append(user)
        return found

    def user_by_id(self, user_id: UUID) -> User | None:
        """The user with this id, if any."""
        try:
            found: object = self.repository.get(user_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, User) else None

    def save_user(self, user: User) -> None:
        """Save a change to a user."""
        self.save(user)
        self._users.pop(user.username, None)
