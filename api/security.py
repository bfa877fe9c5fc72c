"""Password hashes (argon2) and signed, expiring bearer tokens (PyJWT)."""

from __future__ import annotations

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


def read_token(token: str, secret: str) -> str | None:
    """The user name in a valid, unexpired token, else None."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) else None
