"""Configuration: one class reading environment variables; tests use a subclass."""

from __future__ import annotations

import os
from pathlib import Path


def normalize_database_url(url: str | None) -> str | None:
    """SQLAlchemy needs the psycopg 3 driver named explicitly."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _share(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1 (0.10 is 10%), got {raw!r}")
    return value


# gthread threads per worker beyond admission control's slots and queue places: they answer the
# requests refused with 429.
SPARE_THREADS = 8


def default_threads(max_in_flight: int, max_queued: int) -> int:
    """gthread threads per worker. With admission control, one per slot and per queue place, and
    spares to refuse the rest: a request then waits, if at all, in admission's bounded queue, not
    unseen in gunicorn's queue of connections waiting for a thread. Without it, 4."""
    if max_in_flight <= 0:
        return 4
    return max_in_flight + max_queued + SPARE_THREADS


class Config:
    """Every setting the gateway reads, with its environment variable of the same name."""

    def __init__(self) -> None:
        # The serving role's URL (gateway.dbroles); the owner's, for migrations and operator
        # commands, is MIGRATION_DATABASE_URL (unset: DATABASE_URL is used for both).
        self.DATABASE_URL = normalize_database_url(os.environ.get("DATABASE_URL"))
        self.MIGRATION_DATABASE_URL = normalize_database_url(
            os.environ.get("MIGRATION_DATABASE_URL")
        )
        self.DYNAMODB_ENDPOINT_URL = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
        self.AWS_REGION = (
            os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
        self.DYNAMODB_TABLE_PREFIX = os.environ.get("DYNAMODB_TABLE_PREFIX", "gateway-")
        self.GATEWAY_DATA_DIR = Path(os.environ.get("GATEWAY_DATA_DIR") or ".gateway-data")
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        self.TOKEN_EXPIRES_IN = _int("TOKEN_EXPIRES_IN", 3600)
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 512 * 1024 * 1024)
        self.MAX_JSON_LENGTH = _int("MAX_JSON_LENGTH", 10 * 1024 * 1024)
        # Deepest nesting of arrays and objects in a JSON body (documents use a few levels).
        self.MAX_JSON_DEPTH = _int("MAX_JSON_DEPTH", 64)
        self.DB_POOL_SIZE = _int("DB_POOL_SIZE", 5)
        self.DB_MAX_OVERFLOW = _int("DB_MAX_OVERFLOW", 10)
        self.DB_POOL_TIMEOUT = _int("DB_POOL_TIMEOUT", 30)
        self.DB_CONNECT_TIMEOUT = _int("DB_CONNECT_TIMEOUT", 5)
        self.OAUTH1_TIMESTAMP_WINDOW = _int("OAUTH1_TIMESTAMP_WINDOW", 300)
        # A valid token is remembered in-process this long (0 = look it up on every request);
        # revocation therefore takes effect within this many seconds.
        self.TOKEN_CACHE_SECONDS = _int("TOKEN_CACHE_SECONDS", 10)
        # "async": audit rows are written in batches by a background thread (no round trip on the
        # request path); "sync": each request writes its row before answering.
        self.AUDIT_MODE = os.environ.get("AUDIT_MODE", "async")
        # Number of reverse proxies in front of the gateway whose X-Forwarded-* headers to trust.
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
        # Scheme, host and path prefix of absolute URLs (hrefs, Link headers), e.g.
        # https://roster.district.org; unset: the request's own, from a trusted proxy's headers
        # (TRUSTED_PROXIES) or else the server's bind address, never the client's Host header.
        self.PUBLIC_BASE_URL = (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/") or None
        self.ONEROSTER_MAX_LIMIT = _int("ONEROSTER_MAX_LIMIT", 5000)
        # Client keys allowed to read OneRoster users.password (compliance rule 5), comma-separated.
        self.ONEROSTER_PASSWORD_CLIENTS = os.environ.get("ONEROSTER_PASSWORD_CLIENTS", "")
        # "thread": CSV import jobs run in a worker's background thread; "sync": in the request.
        self.CSV_IMPORT_MODE = os.environ.get("CSV_IMPORT_MODE", "thread")
        # A bulk CSV file deleting more than this share of an organization's records of a type is
        # held unless the request allows it.
        self.CSV_MAX_DELETION_SHARE = _share("CSV_MAX_DELETION_SHARE", 0.10)
        # Tombstones (OneRoster tobedeleted records, Ed-Fi /deletes entries) older than this many
        # days are removed by `gateway purge`; unset: keep them until a period is given.
        self.TOMBSTONE_RETENTION_DAYS = _int("TOMBSTONE_RETENTION_DAYS", 0) or None
        # Lease of a running CSV import job, renewed every quarter of it; expired = its worker died.
        self.CSV_IMPORT_LEASE_SECONDS = _int("CSV_IMPORT_LEASE_SECONDS", 120)
        self.GATEWAY_WORKERS = _int("GATEWAY_WORKERS", 2)
        # Admission control per process (gateway/admission.py): requests run at once (0: off),
        # requests that may wait for a slot, and how long; beyond that, 429 with Retry-After.
        # 4 slots (fewer than DB_POOL_SIZE): bench/overload.py measures it against plain queueing.
        self.MAX_IN_FLIGHT = _int("MAX_IN_FLIGHT", 4)
        self.MAX_QUEUED = _int("MAX_QUEUED", 16)
        self.QUEUE_TIMEOUT_MS = _int("QUEUE_TIMEOUT_MS", 500)
        self.RETRY_AFTER_SECONDS = _int("RETRY_AFTER_SECONDS", 1)
        self.GATEWAY_THREADS = _int(
            "GATEWAY_THREADS", default_threads(self.MAX_IN_FLIGHT, self.MAX_QUEUED)
        )
        # flask-smorest / OpenAPI
        self.API_TITLE = "K-12 Interoperability Gateway"
        self.API_VERSION = "0.1.0"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.JSON_SORT_KEYS = False

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
