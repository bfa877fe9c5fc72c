"""Bearer tokens: a verified token is remembered, but never past its expiry, nor for another secret."""

from __future__ import annotations

import time

import pytest

from api.security import Principal, issue_token, read_token

SECRET = "s" * 40


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read once (verified and remembered), then past its expiry: refused."""
    token = issue_token(Principal("reception1", "reception", "county"), SECRET, minutes=1)
    assert read_token(token, SECRET) == "reception1"
    assert read_token(token, SECRET) == "reception1"  # from memory
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    assert read_token(token, SECRET) is None


def test_a_token_is_not_taken_for_another_secret_or_when_altered() -> None:
    """Remembering is per secret; a changed signature is verified (and refused), not looked up."""
    token = issue_token(Principal("leader1", "leader", "county"), SECRET, minutes=5)
    assert read_token(token, SECRET) == "leader1"
    assert read_token(token, "t" * 40) is None
    assert read_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), SECRET) is None
