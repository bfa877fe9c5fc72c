"""Users (admin creates and lists; everyone may read themselves)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from api.deps import CurrentUser, Directory, Writer, require
from api.schemas import UserCreate, UserPublic
from api.security import hash_password
from domain.directory import User
from domain.requests import AlreadyDone

router = APIRouter(prefix="/api/v1/users", tags=["users"])


def user_public(user: User) -> dict[str, Any]:
    """A user without the password hash."""
    return {"username": user.username, "role": user.role, "unit": user.unit, "active": user.active}


@router.post("", status_code=201, response_model=UserPublic,
             responses={403: {"description": "admins only, within their own subtree"},
                        409: {"description": "the user name is taken"},
                        422: {"description": "invalid input"}})
def create_user(body: UserCreate, write: Writer, directory: Directory) -> dict[str, Any]:
    """Add a member of staff to a unit in the admin's subtree."""
    user, request = write.user, write.request
    require(user, "admin")
    directory.unit(body.unit)
    if not directory.within(body.unit, user.unit):
        raise HTTPException(403, "users can be added only to your own unit or units below it")
    try:
        created = directory.create_user(username=body.username, password_hash=hash_password(body.password),
                                        role=body.role, unit=body.unit, actor=user.username,
                                        request=request)
    except AlreadyDone as done:
        found = directory.user(body.username)
        assert found is not None, done  # the record exists only if the user was saved with it
        created = found
    return user_public(created)


@router.get("", response_model=list[UserPublic], responses={403: {"description": "admins only"}})
def list_users(user: CurrentUser, directory: Directory) -> list[dict[str, Any]]:
    """Users of the admin's subtree."""
    require(user, "admin")
    return [user_public(u) for u in directory.users() if directory.within(u.unit, user.unit)]


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser, directory: Directory) -> dict[str, Any]:
    """The caller."""
    found = directory.user(user.username)
    assert found is not None  # current_user has just loaded it
    return user_public(found)
