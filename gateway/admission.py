"""Admission control: a bounded amount of work in flight per process, the rest told to come back.

Under overload a server that queues every request answers all of them late: with 256 clients on two
cores, reads waited up to ten seconds. Here each process runs at most `MAX_IN_FLIGHT` requests at
once; up to `MAX_QUEUED` more may wait for a slot for at most `QUEUE_TIMEOUT_MS`. Anything beyond
that is answered at once with 429 and `Retry-After`, in the envelope of the API that was called, so
a well-behaved client backs off instead of timing out. The health check and metrics are never shed.

gunicorn's gthread workers hand a request to the application only when one of their threads is
free, and queue it unseen otherwise; `gateway serve` therefore runs more threads than slots
(`GATEWAY_THREADS` > `MAX_IN_FLIGHT`), so that waiting happens here, where it is bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wsgi import ClosingIterator

EXEMPT_PATHS = ("/health", "/metrics")


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


class AdmissionMiddleware:
    """WSGI middleware: a slot is held until the response (streamed ones included) is closed."""

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        admission: Admission,
        reject: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]],
        retry_after: int,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.admission = admission
        self.reject = reject
        self.retry_after = retry_after

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("PATH_INFO", "").startswith(EXEMPT_PATHS):
            return self.wsgi_app(environ, start_response)
        if not self.admission.try_enter():
            environ["gateway.retry_after"] = self.retry_after
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
    retry_after = int(app.config.get("RETRY_AFTER_SECONDS") or 1)

    def reject(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from gateway.errors import TooManyRequests, render

        with app.request_context(environ):
            err = TooManyRequests(
                "The server is at capacity; retry after the number of seconds in Retry-After.",
                headers={"Retry-After": str(retry_after)},
            )
            response = app.process_response(render(err))
        return response(environ, start_response)

    app.extensions["admission"] = admission
    app.wsgi_app = AdmissionMiddleware(app.wsgi_app, admission, reject, retry_after)
