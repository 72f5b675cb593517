"""All configuration in one place, read from the environment (and a `.env` file) once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Config(BaseSettings):
    """Flourish's settings; every field is an environment variable of the same name (upper case)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    flourish_data_dir: Path = Path("./data")
    database_url: str | None = None
    flourish_secret_key: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    nlu_backend: Literal["spacy", "rasa"] = "spacy"
    rasa_url: str = "http://127.0.0.1:5005"
    # How many bot processes (webhook workers) send for this bot: each keeps to its share of
    # Telegram's overall limit of 30 messages a second.
    telegram_workers: int = Field(default=1, ge=1)
    invite_ttl_hours: int = Field(default=72, ge=1)
    log_level: str = "INFO"
    # The database: one slow query or held lock must not freeze everyone (storage/db.py).
    db_statement_timeout_seconds: float = Field(default=15.0, gt=0)
    db_lock_timeout_seconds: float = Field(default=5.0, gt=0)
    db_pool_size: int = Field(default=10, ge=1)
    # The dashboard (bot/web): its public URL (for /dashboard links and the Mini App button).
    flourish_web_url: str | None = None
    # Follow-ups (bot/followups): the scheduler runs inside the bot process.
    followups_enabled: bool = True
    followups_sweep_seconds: float = Field(default=30.0, gt=0)
    followups_leader_poll_seconds: float = Field(default=5.0, gt=0)

    @property
    def resolved_database_url(self) -> str:
        """`DATABASE_URL`, or SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.flourish_data_dir / 'flourish.db').resolve()}"


@lru_cache
def get_config() -> Config:
    """The process-wide configuration (tests call `get_config.cache_clear()` after changing env)."""
    return Config()
