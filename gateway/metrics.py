"""Prometheus metrics at GET /metrics, through prometheus-client.

Requests by API, route template, method and status; request latency histograms; database pool
usage; import jobs (CSV, Ed-Fi bulk) by status; audit rows written and dropped; requests shed by
admission control. Under gunicorn the workers share their series through prometheus-client's
multi-process mode (PROMETHEUS_MULTIPROC_DIR, which `gateway serve` sets up); prometheus_client is
imported only once that is decided.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Request, Response
from sqlalchemy import event, text

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
bp = Blueprint("metrics", __name__)
_series: Any = None
_watched_pools: set[int] = set()


def api_of(path: str) -> str:
    """The API a request belongs to (the `api` label)."""
    from gateway.errors import api_family

    family = api_family(path)
    if family != "plain":
        return family
    lowered = path.lower()
    for prefix, name in (("/profiles", "profiles"), ("/oneroster/", "oneroster-csv")):
        if lowered.startswith(prefix):
            return name
    return "oauth" if lowered.startswith("/oauth/") else "gateway"


def series() -> Any:
    """This process's metric objects, made on first use."""
    global _series
    if _series is None:
        from prometheus_client import Counter, Gauge, Histogram

        class Series:
            requests = Counter(
                "gateway_http_requests",
                "HTTP requests answered, by API, route template, method and status",
                ["api", "route", "method", "status"],
            )
            latency = Histogram(
                "gateway_http_request_duration_seconds",
                "Time to answer a request, by API, route template and method",
                ["api", "route", "method"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            )
            pool_size = Gauge(
                "gateway_db_pool_size",
                "Database connections the pools keep (pool_size), summed over live workers",
                multiprocess_mode="livesum",
            )
            pool_checked_out = Gauge(
                "gateway_db_pool_checked_out",
                "Database connections in use, summed over live workers",
                multiprocess_mode="livesum",
            )
            audit_rows = Counter(
                "gateway_audit_rows",
                "Audit rows written, and dropped (a failed write: logged with correlation ids)",
                ["outcome"],
            )
            shed = Counter(
                "gateway_requests_shed",
                "Requests refused with 429 by admission control (no work done), by API",
                ["api"],
            )

        _series = Series
    return _series


def observe_request(req: Request, status: int, seconds: float) -> None:
    if req.path == "/metrics":
        return
    route = req.url_rule.rule if req.url_rule is not None else "(unmatched)"
    api = api_of(req.path)
    s = series()
    s.requests.labels(api, route, req.method, str(status)).inc()
    s.latency.labels(api, route, req.method).observe(seconds)


def observe_shed(path: str) -> None:
    """Count a request refused by admission control."""
    series().shed.labels(api_of(path)).inc()


def audit_rows(outcome: str, count: int) -> None:
    """Count audit rows `written` or `dropped`."""
    series().audit_rows.labels(outcome).inc(count)


def watch_pool(engine: Any) -> None:
    if id(engine.pool) in _watched_pools:
        return
    _watched_pools.add(id(engine.pool))
    s = series()
    size = getattr(engine.pool, "size", None)
    if callable(size):
        kept = size()
        s.pool_size.inc(kept)
        event.listen(engine, "engine_disposed", lambda *_: s.pool_size.dec(kept), once=True)
    event.listen(engine, "checkout", lambda *_: s.pool_checked_out.inc())
    event.listen(engine, "checkin", lambda *_: s.pool_checked_out.dec())


class _ImportJobs:
    """Import jobs (OneRoster CSV, Ed-Fi bulk) by kind and status, counted in the database at
    scrape time, so every worker's jobs are in it."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(
            "gateway_import_jobs",
            "Import jobs by kind (oneroster-csv, edfi-bulk) and status",
            labels=["kind", "status"],
        )
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT kind, status, count(*) FROM csv_import_jobs GROUP BY 1, 2")
                ).all()
        except Exception:  # a scrape must not fail because the database is down
            rows = []
        for kind, status, count in rows:
            family.add_metric([kind, status], count)
        yield family


@bp.get("/metrics")
def scrape() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    from gateway.db import database

    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    jobs = CollectorRegistry()
    jobs.register(_ImportJobs(database().engine))  # type: ignore[arg-type]
    body = generate_latest(registry) + generate_latest(jobs)
    return Response(
        body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], content_type=CONTENT_TYPE_LATEST
    )


def prepare_multiprocess() -> Path:
    """For gunicorn: a fresh directory the workers' series live in (before any metric exists)."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        directory = Path(configured)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix="gateway-metrics-"))
        os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def worker_exited(pid: int) -> None:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def init_app(app: Flask) -> None:
    watch_pool(app.extensions["gateway.db"].engine)
    app.register_blueprint(bp)
