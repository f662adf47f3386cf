"""Admission control: a bounded amount of work in flight per process, the rest told to come back.

Under overload a server that queues every request answers all of them late: with 256 clients on two
cores, reads waited up to ten seconds. Here each process runs at most `MAX_IN_FLIGHT` requests at
once; up to `MAX_QUEUED` more may wait for a slot for at most `QUEUE_TIMEOUT_MS`. Anything beyond
that is answered at once with 429 and `Retry-After`, in the envelope of the API that was called, so
a well-behaved client backs off instead of timing out. The health check and metrics are never shed.

A refusal must cost next to nothing, or refusing becomes the overload: it is written here, without
a Flask request (no session, routing, per-request log line or audit row — the request did no work
and touched no record), counted in /metrics (`gateway_requests_shed_total`) and logged once per
`LOG_EVERY` seconds with the number refused since.

gunicorn's gthread workers hand a request to the application only when one of their threads is
free, and queue it unseen otherwise; `gateway serve` therefore runs more threads than slots and
queue places (`gateway.config.default_threads`), so that waiting happens here, where it is bounded,
and the spare threads answer the refusals.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request
from werkzeug.wsgi import ClosingIterator

from gateway import metrics
from gateway.errors import (
    CORRELATION_HEADER,
    ERROR_BODIES,
    ERROR_MIMETYPES,
    TooManyRequests,
    api_family,
    new_correlation_id,
)

log = logging.getLogger(__name__)

EXEMPT_PATHS = ("/health", "/metrics")
MESSAGE = "The server is at capacity; retry after the number of seconds in Retry-After."
LOG_EVERY = 10.0


class Admission:
    """Slots for requests in flight, and a bounded wait for one."""

    def __init__(self, max_in_flight: int, max_queued: int, queue_timeout: float) -> None:
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued
        self.queue_timeout = queue_timeout
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.waiting = 0
        self.shed = 0

    def try_enter(self) -> bool:
        """Take a slot, waiting a bounded time behind a bounded queue; False: shed the request."""
        if self._slots.acquire(blocking=False):
            self._entered()
            return True
        with self._lock:
            if self.waiting >= self.max_queued:
                self.shed += 1
                return False
            self.waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self.queue_timeout)
        finally:
            with self._lock:
                self.waiting -= 1
        if acquired:
            self._entered()
            return True
        with self._lock:
            self.shed += 1
        return False

    def _entered(self) -> None:
        with self._lock:
            self.in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
        self._slots.release()


class Refusal:
    """The 429 of a shed request, in the envelope of the API it called, built from the WSGI environ
    alone; counted, and logged in aggregate."""

    def __init__(self, admission: Admission, retry_after: int) -> None:
        self.admission = admission
        self.retry_after = str(retry_after)
        self._lock = threading.Lock()
        self._logged_shed = 0
        self._log_at = time.monotonic() + LOG_EVERY

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        family = api_family(request.path)
        cid = new_correlation_id(request)
        body = json.dumps(ERROR_BODIES[family](TooManyRequests(MESSAGE), cid)).encode()
        start_response(
            "429 TOO MANY REQUESTS",
            [
                ("Content-Type", ERROR_MIMETYPES[family]),
                ("Content-Length", str(len(body))),
                ("Retry-After", self.retry_after),
                (CORRELATION_HEADER, cid),
            ],
        )
        metrics.observe_shed(request.path)
        self._log_now_and_then()
        return [body]

    def _log_now_and_then(self) -> None:
        now = time.monotonic()
        if now < self._log_at:
            return
        with self._lock:
            if now < self._log_at:
                return
            shed, self._logged_shed = self.admission.shed - self._logged_shed, self.admission.shed
            self._log_at = now + LOG_EVERY
        log.warning(
            "at capacity: %d request(s) answered 429 since the last report (%d in flight, %d "
            "waiting for a slot)",
            shed,
            self.admission.in_flight,
            self.admission.waiting,
        )


class AdmissionMiddleware:
    """WSGI middleware: a slot is held until the response (streamed ones included) is closed."""

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        admission: Admission,
        reject: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]],
    ) -> None:
        self.wsgi_app = wsgi_app
        self.admission = admission
        self.reject = reject

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("PATH_INFO", "").startswith(EXEMPT_PATHS):
            return self.wsgi_app(environ, start_response)
        if not self.admission.try_enter():
            return self.reject(environ, start_response)
        try:
            body = self.wsgi_app(environ, start_response)
        except BaseException:
            self.admission.leave()
            raise
        return ClosingIterator(body, [self.admission.leave])


def init_app(app) -> None:
    """Wrap the app when MAX_IN_FLIGHT is set (0 turns admission control off)."""
    limit = int(app.config.get("MAX_IN_FLIGHT") or 0)
    if limit <= 0:
        return
    admission = Admission(
        limit,
        int(app.config.get("MAX_QUEUED") or 0),
        int(app.config.get("QUEUE_TIMEOUT_MS") or 0) / 1000,
    )
    refusal = Refusal(admission, int(app.config.get("RETRY_AFTER_SECONDS") or 1))
    app.extensions["admission"] = admission
    app.wsgi_app = AdmissionMiddleware(app.wsgi_app, admission, refusal)
