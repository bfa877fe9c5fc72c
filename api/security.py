"""Password hashes (argon2) and signed, expiring bearer tokens (PyJWT)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
ALGORITHM = "HS256"
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a real hash when the user does not exist keeps the timing the same.
DUMMY_HASH = hash_password("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    """Who is calling: user name, role and unit, as checked on every request."""

    username: str
    role: str
    unit: str


def issue_token(principal: Principal, secret: str, minutes: int) -> str:
    """A signed token naming the user, valid for `minutes`."""
    now = datetime.now(UTC)
    claims = {
        "sub": principal.username,
        "role": principal.role,
        "unit": principal.unit,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_VERIFIED: dict[tuple[str, str], tuple[str, float]] = {}  # (token, secret) -> (user, expiry)
_VERIFIED_MAX = 10_000


def read_token(token: str, secret: str) -> str | None:
    """The user name in a valid, unexpired token, else None.

    A token whose signature was verified is remembered until it expires, so a client's every
    request does not verify the same signature again (the expiry is still checked each time)."""
    known = _VERIFIED.get((token, secret))
    if known is not None:
        if time.time() < known[1]:
            return known[0]
        del _VERIFIED[(token, secret)]
        return None  # expired
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    subject, expiry = claims.get("sub"), claims.get("exp")
    if not isinstance(subject, str):
        return None
    if isinstance(expiry, int | float):
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[(token, secret)] = (subject, float(expiry))
    return subject
