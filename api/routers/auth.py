"""Log in: OAuth2 password form → signed bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import Services
from api.ratelimit import RateLimited
from api.schemas import TokenPublic
from api.security import DUMMY_HASH, Principal, issue_token, verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenPublic,
             responses={401: {"description": "wrong user name or password"},
                        429: {"description": "too many attempts"}})
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], services: Services,
          request: Request, _: Annotated[None, Depends(RateLimited("login", 30))]) -> TokenPublic:
    """Exchange user name and password for a bearer token."""
    user = services.directory.user(form.username) if form.username else None
    valid = verify_password(user.password_hash if user else DUMMY_HASH, form.password)
    if user is None or not valid or not user.active:
        raise HTTPException(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    request.scope.setdefault("state", {})["user"] = user.username
    principal = Principal(user.username, user.role, user.unit)
    return TokenPublic(access_token=issue_token(principal, services.token_secret,
                                                services.settings.token_minutes))
