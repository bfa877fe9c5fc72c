"""Settings and the composition root refuse unsafe or silent-loss configurations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from pydantic import ValidationError

from domain.service import PetitionService
from petitions.bootstrap import build_service, deadline_policy, event_store_env, token_secret
from petitions.settings import Settings


def test_service_refuses_to_run_on_the_librarys_in_memory_default() -> None:
    """Without an explicit persistence module the service does not start."""
    with pytest.raises(RuntimeError, match="PERSISTENCE_MODULE is not set"):
        PetitionService({})


def test_postgres_without_a_cipher_key_is_refused() -> None:
    """A PostgreSQL deployment must encrypt personal data at rest."""
    with pytest.raises(ValidationError, match="PETITIONS_CIPHER_KEY is required with PostgreSQL"):
        Settings(store="postgres")


@pytest.mark.parametrize("key, problem", [("not base64!", "must be base64"),
                                          ("c2hvcnQ=", "16, 24 or 32 bytes")])
def test_a_malformed_cipher_key_is_refused(key: str, problem: str) -> None:
    """A key that AES cannot use is refused at start, not at the first save."""
    with pytest.raises(ValidationError, match=problem):
        Settings(cipher_key=key)


def test_default_store_is_a_sqlite_file_under_the_data_directory(tmp_path: Path) -> None:
    """The embedded default keeps events in one SQLite file under data_dir."""
    service = build_service(Settings(data_dir=tmp_path))
    try:
        assert type(service.recorder).__module__ == "eventsourcing.sqlite"
        assert (tmp_path / "events.sqlite3").exists()
    finally:
        service.close()


def test_store_settings_override_stray_library_variables(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    """A PERSISTENCE_MODULE left in the environment cannot switch the store to memory."""
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    monkeypatch.setenv("PETITIONSERVICE_PERSISTENCE_MODULE", "eventsourcing.popo")
    service = build_service(Settings(data_dir=tmp_path))
    try:
        assert type(service.recorder).__module__ == "eventsourcing.sqlite"
    finally:
        service.close()


def test_cipher_key_turns_on_the_librarys_aes_cipher(tmp_path: Path) -> None:
    """With a key, events are encrypted by the library's AES cipher."""
    env = event_store_env(Settings(data_dir=tmp_path, cipher_key=AESCipher.create_key(32)))
    assert env["CIPHER_TOPIC"] == "eventsourcing.cryptography:AESCipher"
    assert env["PETITIONSERVICE_CIPHER_TOPIC"] == env["CIPHER_TOPIC"]


def test_clock_counting_and_revisit_days_come_from_settings(tmp_path: Path) -> None:
    """An office can count a clock in working days and set its revisit period."""
    policy = deadline_policy(
        Settings(data_dir=tmp_path, clock_counting={"handling": "working"}, revisit_days=10)
    )
    assert policy.rules["handling"].counting == "working"
    assert "working days" in policy.start("handling", date(2026, 9, 1)).rule
    assert policy.rules["revisit"].days == 10


@pytest.mark.parametrize("secret", [None, "changeme", "short"])
def test_production_refuses_a_missing_default_or_short_token_secret(secret: str | None) -> None:
    """Outside the embedded demo, tokens must be signed with a real secret."""
    with pytest.raises(ValidationError, match="PETITIONS_TOKEN_SECRET must be set"):
        Settings(mode="production", token_secret=secret)


def test_production_accepts_a_long_random_token_secret(tmp_path: Path) -> None:
    """A random secret of 32 or more characters is accepted."""
    settings = Settings(mode="production", token_secret="x" * 16 + "y" * 16, data_dir=tmp_path)
    assert settings.mode == "production"


def test_the_embedded_demo_makes_and_keeps_its_own_token_secret(tmp_path: Path) -> None:
    """Without a configured secret, one is made once in the data directory and reused."""
    first = token_secret(Settings(data_dir=tmp_path))
    assert len(first) >= 32 and token_secret(Settings(data_dir=tmp_path)) == first
    assert (tmp_path / "token_secret").stat().st_mode & 0o077 == 0
