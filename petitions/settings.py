"""The one settings object every entry point is built from (environment variables PETITIONS_*)."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEFAULT_SECRETS = {"changeme", "secret", "change-me", "development"}


class Settings(BaseSettings):
    """Where events are kept, how they are protected, and the office's local rules."""

    model_config = SettingsConfigDict(env_prefix="PETITIONS_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    store: Literal["sqlite", "postgres"] = Field(
        "sqlite", description="sqlite: one file under data_dir (embedded); postgres: production"
    )
    data_dir: Path = Path("data")
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_dbname: str = "petitions"
    postgres_user: str = "postgres"
    # The library insists on a password even with trust authentication.
    postgres_password: SecretStr = SecretStr("")
    postgres_schema: str = ""
    postgres_lock_timeout: int = Field(5, ge=1, description="seconds to wait for a table lock")
    postgres_pool_size: int = Field(5, ge=1)
    cipher_key: SecretStr | None = Field(
        None, description="base64 AES key (16, 24 or 32 bytes); encrypts events at rest"
    )
    timezone: str = "Asia/Shanghai"
    case_number_prefix: str = Field("XF", pattern=r"^[A-Z]{1,8}$")
    holidays_file: Path | None = Field(
        None, description="JSON holiday schedules loaded by an administrator (default data_dir)"
    )
    clock_counting: dict[str, Literal["calendar", "working"]] = Field(
        default_factory=dict, description='e.g. {"handling": "working"}'
    )
    revisit_days: int = Field(15, ge=1, le=365)
    token_secret: SecretStr | None = Field(
        None, description="signs login tokens; required in production (at least 32 characters)"
    )
    token_minutes: int = Field(480, ge=1, le=7 * 24 * 60)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    progress_per_minute: int = Field(10, ge=1, description="progress queries per client a minute")
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("cipher_key")
    @classmethod
    def _valid_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except binascii.Error:
            raise ValueError("PETITIONS_CIPHER_KEY must be base64") from None
        if len(raw) not in (16, 24, 32):
            raise ValueError("PETITIONS_CIPHER_KEY must decode to 16, 24 or 32 bytes")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.store == "postgres" and self.cipher_key is None:
            raise ValueError(
                "PETITIONS_CIPHER_KEY is required with PostgreSQL: petitioners' ID numbers, "
                "phones and addresses must be encrypted at rest (make one with "
                "`petitions new-key`)"
            )
        if self.mode == "production" or self.store == "postgres":
            # Only the embedded demo may sign tokens with a secret it made itself.
            secret = self.token_secret.get_secret_value() if self.token_secret else ""
            if len(secret) < 32 or secret in _DEFAULT_SECRETS:
                raise ValueError(
                    "PETITIONS_TOKEN_SECRET must be set to a random value of at least 32 characters "
                    "outside the embedded demo (e.g. `petitions new-key`)"
                )
        return self

    @property
    def holidays_path(self) -> Path:
        """Where the administrator's holiday schedules are kept."""
        return self.holidays_file or self.data_dir / "holidays.json"
