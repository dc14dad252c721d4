"""Service configuration, read once from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the service. Environment variables are ``REWARDS_<NAME>``,
    except ``DATABASE_URL`` and ``DATABASE_REPLICA_URL``."""

    model_config = SettingsConfigDict(env_prefix="REWARDS_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL. Unset: an embedded server with data under data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".rewards"), description="Where the embedded PostgreSQL keeps its data."
    )
    database_replica_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_REPLICA_URL", "REWARDS_DATABASE_REPLICA_URL"),
        description="A streaming replica of DATABASE_URL's server: reads that tolerate a "
        "bounded lag go there once it has replayed every write committed before them.",
    )
    replica_wait_ms: float = Field(
        default=100,
        ge=0,
        description="How long a read waits for the replica to catch up before it is served "
        "by the primary instead.",
    )
    pool_min_size: int = Field(default=2, ge=1, description="Connections each worker keeps open.")
    pool_max_size: int = Field(default=20, ge=1, description="Most connections per worker.")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body (413 above it)."
    )
    hook_max_body_bytes: int = Field(
        default=65_536, ge=1024, description="Largest single-transaction hook body."
    )
    hook_tolerance_seconds: int = Field(
        default=300, ge=1, description="How far a hook's signature time may be from now."
    )
    hook_gather_window_ms: float = Field(
        default=2.0,
        ge=0,
        le=1000,
        description="Group commit: how long a single hook may wait for others of its tenant "
        "while batches are being written (a hook on an idle worker never waits).",
    )
    hook_gather_max: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="Group commit: most single hooks written in one transaction (1: off).",
    )
    hook_gather_parallel: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Group commit: most batches of one tenant a worker writes at a time.",
    )
    credential_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a worker keeps tenant secrets and API keys it looked up.",
    )
    expiry_interval_seconds: float = Field(
        default=3600,
        ge=0,
        description="How often a worker runs the points-expiry job (0: never; one process at "
        "a time runs it, guarded by an advisory lock).",
    )
    deliver_events: bool = Field(
        default=True,
        description="Run the outbound-event delivery loop in this process (every serving "
        "process does by default; the outbox is shared safely).",
    )
    run_jobs: bool = Field(
        default=True,
        description="Work on background jobs (replays, imports, grants) in this process, in a "
        "thread of its own (every serving process does by default; jobs are shared with FOR "
        "UPDATE SKIP LOCKED).",
    )
    job_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a job stays with a worker that stopped reporting progress "
        "(its process died) before another worker takes it up again.",
    )
    job_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks for a waiting job."
    )
    bulk_chunk: int = Field(
        default=5000,
        ge=10,
        le=100_000,
        description="Lines (or members) an import, a segment job or a grant applies in one "
        "transaction with its checkpoint; merchants a month's close settles in one.",
    )
    replay_chunk: int = Field(
        default=5000,
        ge=100,
        le=100_000,
        description="Transactions a replay reads, and reports progress for, at a time.",
    )
    replay_processes: int = Field(
        default=2,
        ge=1,
        le=2,
        description="Processes a replay plans on: 2 plans the baseline and the draft on two "
        "cores at once (the draft in a child process); 1 keeps both in the process that "
        "took the job.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Accept http webhook URLs and ones that resolve to private, loopback or "
        "link-local addresses (tests, demos, a receiver inside the bank's network).",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Time allowed to connect to a receiver, and for each read or write.",
    )
    webhook_deadline_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Time allowed for a whole delivery, connect to the last byte of the "
        "answer (a receiver that trickles its answer is cut off here).",
    )
    webhook_retry_base_seconds: float = Field(
        default=10.0,
        gt=0,
        description="First retry delay of a failed delivery; doubled each attempt (at most "
        "one hour, with jitter), for 72 hours.",
    )
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a delivery worker holds an event it is sending; if the worker "
        "dies, the event is sent again once this has passed. Always at least the delivery "
        "deadline plus 5 s, so that one event is never in flight twice at once.",
    )
    event_retention_days: float = Field(
        default=7, gt=0, description="How long delivered events are kept before pruning."
    )
    header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="Time for a request line and headers to arrive (uvicorn and granian).",
    )
    max_header_bytes: int = Field(
        default=16_384, ge=1024, description="Largest request line and headers (uvicorn)."
    )
    body_timeout_seconds: float = Field(
        default=15, gt=0, description="Time for a request body to arrive once begun."
    )
    startup_wait_seconds: float = Field(
        default=120,
        ge=0,
        description="How long a starting worker waits for an unreachable database.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    access_log: bool = Field(default=True, description="One JSON log line per request.")
    web_session_minutes: float = Field(
        default=480,
        gt=0,
        description="How long a portal or console sign-in lasts (signing out ends it sooner).",
    )
    web_sign_in_failures_per_minute: int = Field(
        default=10,
        ge=1,
        description="Failed portal or console sign-ins one address may make a minute; past "
        "them it is refused (429) until the minute is over, and the tenant's audit log says so.",
    )
    web_secure_cookies: bool = Field(
        default=False,
        description="Mark the portal's and console's cookies Secure even when the request "
        "came over http (behind a proxy that ends TLS without X-Forwarded-Proto).",
    )
