"""Configuration from environment variables, with development secrets generated into the data dir."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production", "test")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot start Spendwatch; the message says what to fix."""


@dataclass(frozen=True)
class SyncSettings:
    """How the worker syncs provider accounts."""

    max_workers: int = 32  # accounts synced at once by one worker process
    provider_limits: Mapping[str, int] = field(default_factory=dict)  # optional bound per provider kind
    backfill_days: int = 90  # how far back the first sync of an account reaches
    lookback_days: int = 2  # later syncs re-read this much before the watermark: providers revise recent buckets
    lease_seconds: int = 300  # a claim on an account lapses after this long without renewal
    dispatch_seconds: int = 5  # how often the worker looks for due accounts


# Standard Webhooks' schedule: the delay before each attempt (now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
# 24 h); after the last one fails the notification is dead.
DEFAULT_RETRY_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


@dataclass(frozen=True)
class DeliverySettings:
    """How the delivery job sends notifications."""

    retry_schedule: tuple[int, ...] = DEFAULT_RETRY_SCHEDULE  # seconds before attempt 1, 2, …
    lease_seconds: int = 120  # a claim on a notification lapses after this long (a worker died mid-send)
    batch_size: int = 50  # notifications claimed per run
    timeout_seconds: int = 15  # per webhook request / SMTP conversation


@dataclass(frozen=True)
class ImportSettings:
    """How statement files are read (docs/imports.md, "Limits")."""

    parse_seconds: float = 30.0  # one statement's parse; a 5 MB, 100,000-row CSV takes 2 to 4 s here
    max_parses: int = 2  # statements parsed at once per process; beyond, a short wait for a slot, then 503
    slot_wait_seconds: float = 1.0
    max_rows: int = 100_000  # transactions per file


def _retry_schedule(env: Mapping[str, str]) -> tuple[int, ...]:
    raw = (env.get("DELIVERY_RETRY_SCHEDULE") or "").strip()
    if not raw:
        return DEFAULT_RETRY_SCHEDULE
    parts = [p.strip() for p in raw.split(",")]
    if not all(p.isdigit() for p in parts) or len(parts) > 50:
        raise ConfigError(
            f"DELIVERY_RETRY_SCHEDULE must be up to 50 comma-separated whole seconds such as 0,5,300, got {raw!r}"
        )
    return tuple(int(p) for p in parts)


@dataclass(frozen=True)
class Settings:
    """Process settings read once at start-up (instance settings editable at runtime live in the DB)."""

    app_env: str
    data_dir: Path
    database_url: str
    secret_key: str
    encryption_keys: tuple[str, ...]
    base_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: tuple[str, ...] = ()
    max_request_bytes: int = 10 * 1024 * 1024  # uploads (statement and CSV files), and the cap of every request
    max_json_bytes: int = 1024 * 1024  # every other request body (JSON)
    ratelimit_storage_uri: str = "memory://"
    auth_rate_limit: str = "10 per minute"
    refresh_rate_limit: str = "60 per minute"
    log_level: str = "INFO"
    log_format: str = "text"
    web_concurrency: int = 2
    trusted_proxies: int = 0  # reverse proxies in front of the API whose X-Forwarded-* headers we believe
    provider_base_urls: Mapping[str, str] = field(default_factory=dict)
    sync: SyncSettings = field(default_factory=lambda: SyncSettings())
    delivery: DeliverySettings = field(default_factory=lambda: DeliverySettings())
    imports: ImportSettings = field(default_factory=lambda: ImportSettings())
    # How long an SQLite write waits for another writer's lock before it gives up (503 database_busy).
    sqlite_busy_timeout_ms: int = 5000

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"


def _read(env: Mapping[str, str], name: str) -> str | None:
    """Value of NAME, or the contents of the file named by NAME_FILE (Docker secrets)."""
    value = env.get(name)
    if value:
        return value.strip()
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"{name}_FILE points at {path!r}, which cannot be read: {exc.strerror}") from None
    return None


def _generated_secret(path: Path, make: Callable[[], str], generated: list[str], name: str) -> str:
    """Read a development secret from PATH, creating it (mode 0600) on first use and noting NAME then."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL + 0600: the secret is never world-readable, not even for an instant.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process sharing this data dir won the race: use its secret.
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    generated.append(name)
    return value


def _validate_fernet_keys(keys: tuple[str, ...]) -> None:
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                f"ENCRYPTION_KEYS entry #{index + 1} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with `spendwatch keys generate`)"
            ) from None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1, maximum: int | None = None) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ConfigError(f"{name} must be {bounds}, got {value}")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ENV (default os.environ); generate dev secrets, refuse missing ones in production."""
    env = os.environ if env is None else env
    app_env = (env.get("APP_ENV") or "").strip().lower() or "development"
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {app_env!r}")

    data_dir = Path(env.get("SPENDWATCH_DATA_DIR") or "var").resolve()
    database_url = _read(env, "DATABASE_URL") or f"sqlite:///{data_dir / 'spendwatch.db'}"

    secret_key = _read(env, "SECRET_KEY")
    raw_keys = _read(env, "ENCRYPTION_KEYS")

    if app_env == "production":
        missing = [name for name, value in (("SECRET_KEY", secret_key), ("ENCRYPTION_KEYS", raw_keys)) if not value]
        if missing:
            raise ConfigError(
                "APP_ENV=production refuses to start without "
                + " and ".join(missing)
                + " (set the variable, or NAME_FILE pointing at a file that holds it)"
            )

    generated: list[str] = []
    if not secret_key:
        secret_key = _generated_secret(
            data_dir / "secret_key", lambda: secrets.token_urlsafe(48), generated, "SECRET_KEY"
        )
    if not raw_keys:
        raw_keys = _generated_secret(
            data_dir / "encryption_keys", lambda: Fernet.generate_key().decode(), generated, "ENCRYPTION_KEYS"
        )
    if generated:
        log.warning(
            "development mode: generated %s into %s (mode 0600); set them explicitly before going to production",
            " and ".join(generated),
            data_dir,
        )

    keys = tuple(k.strip() for k in raw_keys.split(",") if k.strip())
    if not keys:
        raise ConfigError("ENCRYPTION_KEYS is set but holds no key")
    _validate_fernet_keys(keys)
    if secret_key in keys:
        raise ConfigError("SECRET_KEY and ENCRYPTION_KEYS must differ: the JWT secret is not the encryption key")

    port = _int(env, "SPENDWATCH_PORT", 8000, maximum=65535)
    host = (env.get("SPENDWATCH_HOST") or "").strip() or "127.0.0.1"
    log_format = (env.get("LOG_FORMAT") or "").strip().lower() or ("json" if app_env == "production" else "text")
    if log_format not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, got {log_format!r}")
    log_level = (env.get("LOG_LEVEL") or "INFO").strip().upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    ratelimit_storage = (env.get("RATELIMIT_STORAGE_URI") or "").strip() or "memory://"
    if not ratelimit_storage.startswith(("memory://", "redis://", "rediss://", "redis+sentinel://")):
        raise ConfigError("RATELIMIT_STORAGE_URI must be memory:// or a redis:// URL")

    # Per-provider API base URL overrides, e.g. SPENDWATCH_PROVIDER_URL_OPENAI=http://127.0.0.1:9000
    prefix = "SPENDWATCH_PROVIDER_URL_"
    provider_urls = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix) and v}

    limits: dict[str, int] = {}
    for part in (env.get("SYNC_PROVIDER_LIMITS") or "").split(","):
        if part.strip():
            kind, _, number = part.partition("=")
            if not number.strip().isdigit() or int(number) < 1:
                raise ConfigError(f"SYNC_PROVIDER_LIMITS entries look like openai=8, got {part.strip()!r}")
            limits[kind.strip().lower()] = int(number)
    sync = SyncSettings(
        max_workers=_int(env, "SYNC_MAX_WORKERS", 32, maximum=512),
        provider_limits=limits,
        backfill_days=_int(env, "SYNC_BACKFILL_DAYS", 90, maximum=3650),
        lookback_days=_int(env, "SYNC_LOOKBACK_DAYS", 2, minimum=0, maximum=90),
        lease_seconds=_int(env, "SYNC_LEASE_SECONDS", 300, minimum=1),
        dispatch_seconds=_int(env, "SYNC_DISPATCH_SECONDS", 5, maximum=3600),
    )

    delivery = DeliverySettings(
        retry_schedule=_retry_schedule(env),
        lease_seconds=_int(env, "DELIVERY_LEASE_SECONDS", 120, minimum=1),
        batch_size=_int(env, "DELIVERY_BATCH_SIZE", 50, maximum=1000),
        timeout_seconds=_int(env, "DELIVERY_TIMEOUT_SECONDS", 15, maximum=300),
    )
    imports = ImportSettings(
        parse_seconds=_int(env, "IMPORT_PARSE_SECONDS", 30, maximum=600),
        max_parses=_int(env, "IMPORT_MAX_PARSES", 2, maximum=64),
        max_rows=_int(env, "IMPORT_MAX_ROWS", 100_000, maximum=1_000_000),
    )
    return Settings(
        sync=sync,
        delivery=delivery,
        imports=imports,
        sqlite_busy_timeout_ms=_int(env, "SQLITE_BUSY_TIMEOUT_MS", 5000, minimum=0, maximum=600_000),
        app_env=app_env,
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        encryption_keys=keys,
        base_url=(env.get("BASE_URL") or f"http://{host}:{port}").rstrip("/"),
        host=host,
        port=port,
        cors_origins=tuple(o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()),
        max_request_bytes=_int(env, "MAX_REQUEST_BYTES", 10 * 1024 * 1024, minimum=1024),
        max_json_bytes=_int(env, "MAX_JSON_BYTES", 1024 * 1024, minimum=1024),
        ratelimit_storage_uri=ratelimit_storage,
        auth_rate_limit=(env.get("AUTH_RATE_LIMIT") or "").strip() or "10 per minute",
        refresh_rate_limit=(env.get("REFRESH_RATE_LIMIT") or "").strip() or "60 per minute",
        log_level=log_level,
        log_format=log_format,
        web_concurrency=_int(env, "WEB_CONCURRENCY", 2, maximum=64),
        trusted_proxies=_int(env, "TRUSTED_PROXIES", 0, minimum=0, maximum=10),
        provider_base_urls=provider_urls,
    )
