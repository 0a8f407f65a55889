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
    # Which clients a cohort takes (docs/flows.md): one with an open case gets its new contracts
    # joined to it; one whose case closed recently is not called again (listed as skipped).
    recontact_after_reached_months: int = Field(
        12, ge=0, description="A client whose case closed after being reached (complet, refus) in the last N months "
                              "is not called again")
    recontact_after_unreached_months: int = Field(
        3, ge=0, description="A client whose case closed unreached (injoignable, sans suite) in the last N months is "
                             "not called again")
    cohort_lead_days: int = Field(
        10, ge=0, le=27, description="The cohort of month M opens this many days before M starts, so a case due "
                                     "on the 1st can use its whole contact window")
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
    max_validation_errors: int = Field(20, description="Errors listed in one 422 invalid_payload answer")
    sqlite_busy_timeout_s: float = Field(
        30, gt=0, le=600, description="SQLite: how long a transaction waits for the file's write lock (another "
                                      "process holds it) before giving up; the API then answers 503 with Retry-After")
    session_secret: str | None = Field(
        None, description="Signs the pages' session cookies (share it between machines); none: generated once "
                          "in <data_dir>/session-secret. The built-in development value is refused unless M3_DEV=1")

    # Pages (docs/pages.md)
    dev: bool = Field(False, description="A development run: allows the built-in development session secret")
    session_idle_hours: float = Field(10.0, description="A page session ends after this long without a request")
    session_https_only: bool = Field(False, description="Session cookie sent over HTTPS only (set behind TLS)")
    password_min_length: int = Field(12, description="Shortest password accepted (m3 user password, the page)")
    # Failed credential checks (api/credentials.py): `limits` notation, moving windows up to 24 h,
    # counted in the database (auth_failure), so shared by every server process.
    login_limit_user: str = Field("5 per 5 minutes", description="Failed password checks per username (login, "
                                  "password change), shared by the server processes")
    login_limit_address: str = Field("50 per 5 minutes", description="Failed logins per client address, shared by "
                                     "the server processes (generous: an agency's advisors share one address)")
    token_limit_id: str = Field("10 per 5 minutes", description="Failed bearer-token checks per token id, shared")
    token_limit_address: str = Field("100 per 5 minutes", description="Failed bearer-token checks per client "
                                     "address (IPv6: per /64), shared by the server processes")
    argon2_concurrency: int = Field(2, ge=1, le=7, description="argon2 checks running at once per server process; "
                                    "below api.app.THREADS (8) so credential checks never hold every route thread")

    # Run command, manager and compliance pages, opt-outs (docs/pages.md)
    http_port: int = Field(8000, ge=1, le=65535, description="Port of the server (m3 serve, ./dev run)")
    http_workers: int = Field(1, ge=1, le=64, description="Server processes of `m3 serve` (uvicorn workers)")
    prefect_port: int = Field(4200, ge=1, le=65535, description="Port of the local Prefect server (m3 worker, ./dev run)")
    public_base_url: str | None = Field(
        None, description="Public address of the server as clients reach it (https://suivi.agence.example): the "
                          "opt-out links of marketing emails are built from it; none: http://127.0.0.1:<http_port>")
    optout_secret: str | None = Field(
        None, description="Signs the opt-out links (share it between machines); none: generated once in "
                          "<data_dir>/optout-secret. Changing it invalidates the links already sent")
    upload_max_mb: int = Field(200, ge=1, le=10_000, description="Largest CRM export accepted by the manager's upload page (MB)")
    import_max_quoted_lines: int = Field(
        5, ge=1, le=1000, description="Most lines one row of the CRM export may span (a quoted field with line "
                                      "breaks); past it the row is rejected and reading resumes at its next line")

    # Prefect
    prefect_api_url: str | None = Field(None, description="A running Prefect server; none: flows run in-process")
    delivery_every_minutes: int = Field(
        5, ge=1, le=1440, description="The m3-delivery deployment delivers the outbox this often (m3 worker)")

    # Notes, claims and questions; the call script (docs/call-script.md)
    note_max_chars: int = Field(4000, ge=100, le=100_000,
                                description="Longest note, claim or question summary, or answer (characters)")
    scripts_dir: Path | None = Field(
        None, description="The agencies' call-script templates; default <data_dir>/scripts (one <agency>.md.j2 each)")

    # Calls and appointments (docs/calls-and-appointments.md)
    appointment_tolerance_minutes: int = Field(
        120, ge=5, le=24 * 60,
        description="A call within this many minutes of an appointment's time is that appointment's call (consent "
                    "lifts D223-9's hours); an appointment this long past with no call shows as missed")
    pieces_due_days: int = Field(
        7, ge=1, le=90, description="A refusal, or a contract joining a case past contrats finalisés, leaves the "
                                    "missing pieces as an action due this many days later")
    today: str | None = Field(
        None, description="Simulated date for demos and end-to-end tests (M3_TODAY): YYYY-MM-DD keeps the current "
                          "time of day in Europe/Paris, a full ISO datetime freezes the clock there; every API "
                          "answer then carries X-M3-Simulated-Date, and --today defaults to it")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'm3.db').resolve()}"

    @property
    def public_url(self) -> str:
        """The public base URL, without a trailing slash (M3_PUBLIC_BASE_URL, else the local server)."""
        return (self.public_base_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")

    @property
    def letters_dir(self) -> Path:
        return self.data_dir / "letters"

    @property
    def call_scripts_dir(self) -> Path:
        return self.scripts_dir or self.data_dir / "scripts"


@lru_cache
def get_settings() -> Settings:
    return Settings()
