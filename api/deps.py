"""Dependencies of the routes, as Annotated aliases: the services, the caller, a write's key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from api.security import Principal, read_token
from domain.directory import DirectoryService
from domain.requests import RequestKey
from domain.service import PetitionService
from petitions.bootstrap import Container
from projections.case_list import unit_paths

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def single_valued_query(request: Request) -> None:
    """Every query parameter of this API takes one value: a repeated one is refused, not guessed at."""
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key in seen:
            raise HTTPException(422, f"{key}: give this query parameter once")
        seen.add(key)


# The light dependencies are `async def` so FastAPI runs them inline rather than in a thread.
async def container(request: Request) -> Container:
    """The application built by the composition root."""
    built: Container = request.app.state.container
    return built


Services = Annotated[Container, Depends(container)]


async def petitions(request: Request) -> PetitionService:
    """The petition application service."""
    built: Container = request.app.state.container
    return built.petitions


async def directory(request: Request) -> DirectoryService:
    """Units and users."""
    built: Container = request.app.state.container
    return built.directory


Petitions = Annotated[PetitionService, Depends(petitions)]
Directory = Annotated[DirectoryService, Depends(directory)]


async def current_user(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    """The caller named by a valid bearer token, still active, with their current role and unit."""
    return await _authenticate(request, token)


async def _authenticate(request: Request, token: str | None) -> Principal:
    """The active user a bearer token names, else 401.

    Inline on the event loop (no thread hop) when the user was read recently; the store is read
    in a worker thread otherwise."""
    built: Container = request.app.state.container
    username = read_token(token, built.token_secret) if token else None
    user = None
    if username:
        known, user = built.directory.recent_user(username)
        if not known:
            user = await run_in_threadpool(built.directory.cached_user, username)
    if user is None or not user.active:
        raise HTTPException(401, "please log in again: the token is missing, invalid or expired",
                            headers={"WWW-Authenticate": "Bearer"})
    request.scope.setdefault("state", {})["user"] = user.username
    return Principal(user.username, user.role, user.unit)


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(principal: Principal, *roles: str) -> None:
    """403 unless the caller has one of the roles."""
    if principal.role not in roles:
        raise HTTPException(403, f"your role ({principal.role}) may not do this; "
                                 f"it needs: {', '.join(roles)}")


@dataclass(frozen=True)
class Write:
    """The caller of a POST, and the idempotency key they sent with it (None if they sent none)."""

    user: Principal
    request: RequestKey | None


# One dependency for both (authenticating as current_user does), rather than the user and a
# key depending on the user: each dependency FastAPI solves costs every write the same again.
async def writer(
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
    idempotency_key: Annotated[str | None, Header(
        description="Send the same key when retrying a POST: the first answer is returned and "
                    "nothing new is recorded.", max_length=200)] = None,
) -> Write:
    """The caller, with their idempotency key and a fingerprint of the request (method, path, body)."""
    principal = await _authenticate(request, token)
    if not idempotency_key:
        return Write(principal, None)
    body = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
    ).hexdigest()
    return Write(principal, RequestKey(caller=principal.username, key=idempotency_key,
                                       fingerprint=fingerprint))


Writer = Annotated[Write, Depends(writer)]


def fresh_views(request: Request, after: Annotated[int | None, Query(ge=0, description=(
        "a write's X-Notification-Id: wait (up to 5 s) until the view includes it"))] = None) -> None:
    """Read-your-writes for the view routes. Embedded: catch up now (in-process). PostgreSQL:
    wait for the projector to pass `after`, or answer 503 if it does not within 5 s."""
    built: Container = request.app.state.container
    if built.projector is not None:
        built.projector.catch_up()
    elif after is not None:
        try:
            built.views.wait(built.petitions.name, after, timeout=5.0)
        except TimeoutError:
            raise HTTPException(503, "the views are catching up; try again in a moment") from None


Fresh = Annotated[None, Depends(fresh_views)]
FRESH_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"description": "the views did not reach `after` within 5 s; try again"}}


def subtree_path(services: Container, user: Principal, unit: str | None) -> str:
    """The path of `unit` (default: the caller's), refused with 403 outside the caller's subtree."""
    directory = services.directory
    target = unit or user.unit
    directory.unit(target)
    if not directory.within(target, user.unit):
        raise HTTPException(403, "unit: you may read only your own unit and the units below it")
    return unit_paths(directory.ancestors)(target)
