"""Settings from KITH_* environment variables and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-kith-development-secret-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KITH_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite under ./var/ by default")
    data_dir: Path = Path("var")
    secret_key: str = DEFAULT_SECRET
    timezone: str = "Asia/Shanghai"
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    redis_url: str | None = None
    # notification delivery (outbox): e-mail over SMTP, webhook target checks
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "kith@localhost"
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    webhook_allowlist: str = Field(default="", description="comma-separated hosts or networks (CIDR) webhooks may reach "
                                   "although private/loopback/link-local, e.g. 'hooks.internal,10.0.5.0/24'")
    delivery_max_attempts: int = 10
    jobs_queue: str = "kith"  # Huey queue name (the Redis key prefix / the SQLite queue name)
    jobs_eager: bool | None = None  # run jobs inline right after commit; default: only when environment == "test"
    host: str = "127.0.0.1"
    port: int = 8000
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    jwt_issuer: str = "kith"
    jwt_audience: str = "kith-api"
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    demo_mode: bool = False
    log_json: bool | None = None  # None: JSON when stdout is not a terminal
    log_level: str = "INFO"
    sql_echo: bool = False
    request_threads: int | None = Field(default=None, ge=1, le=200, description=(
        "threads a server process runs blocking request work on; default 2 on SQLite, 8 on PostgreSQL (ADR 0025)"))
    read_threads: int = Field(default=1, ge=1, le=64, description=(
        "threads a server process runs lists, records and search on, apart from other requests (ADR 0028)"))

    @field_validator("database_url")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kith.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def check_production(self) -> list[str]:
        """Problems that forbid starting in production mode."""
        problems = []
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                problems.append("KITH_SECRET_KEY must be set to a random value of 32+ characters in production")
            if self.demo_mode:
                problems.append("KITH_DEMO_MODE must be off in production")
        return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
