"""Settings of Suivi M+3, read from `M3_*` environment variables (or a `.env` file).

Defaults work on a laptop: an SQLite database in `./var`, no SMTP password, no Prefect server.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="M3_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Folder for the SQLite database, letters, Prefect home")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/m3.db (PostgreSQL: postgresql+psycopg://...)"
    )

    # Cohort
    dedupe_months: int = Field(12, description="A client with a case created in the last N months gets none")
    contact_window_days: int = 7
    priority_weight_family: dict[str, int] = {"IARD": 10, "Santé": 20, "Prévoyance": 30, "Épargne": 30}
    priority_weight_kind: dict[str, int] = {"particulier": 0, "professionnel": 15, "entreprise": 25}
    priority_premium_step_eur: int = Field(500, description="One priority point per this many euros of premium")
    priority_premium_cap: int = 40

    # Escalation
    failed_calls_before_email: int = 3
    failed_call_distinct_days: int = 2
    business_days_before_letter: int = 7
    business_days_before_unreachable: int = 10
    document_reminder_every_days: int = 7

    # Notifications
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = 10.0
    mail_from: str = "Suivi M+3 <suivi-m3@agence.example>"
    manager_emails: dict[str, str] = {
        "corniche": "direction.corniche@agence.example",
        "rouviere": "direction.rouviere@agence.example",
    }
    outbox_max_attempts: int = 8
    outbox_backoff_base_s: float = 30.0
    outbox_backoff_max_s: float = Field(3600.0, description="Cap of the retry delay (exponential backoff)")
    outbox_claim_lease_s: float = Field(
        300.0, description="A row claimed by a sender that died is retried after this (same Message-ID)")
    message_id_domain: str = Field("suivi-m3.local", description="Right-hand side of the stable Message-IDs")

    # API
    max_body_bytes: int = Field(1_000_000, description="Largest request body accepted; larger: 413 before reading")
    max_upload_bytes: int = Field(200_000_000, description="Largest CRM export uploaded from the manager's page")
    max_validation_errors: int = Field(20, description="Errors listed in one 422 invalid_payload answer")
    session_secret: str = Field("change-me-in-production", description="Signs the pages' session cookies")

    # Prefect
    prefect_api_url: str | None = Field(None, description="A running Prefect server; none: flows run in-process")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'm3.db').resolve()}"

    @property
    def letters_dir(self) -> Path:
        return self.data_dir / "letters"


@lru_cache
def get_settings() -> Settings:
    return Settings()
