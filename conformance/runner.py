"""Check registry, results and the loop that runs a suite's checks in order."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, SKIP = "pass", "fail", "skip"
# Verdicts: every required check ran and passed; one failed; some could not run (no data, no scope).
CONFORMANT, NOT_CONFORMANT, INCOMPLETE = "conformant", "not conformant", "incomplete"


class CheckFailed(Exception):
    """The behaviour under check differs from the standard."""

    def __init__(self, reason: str, problems: list[str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.problems = problems or []


class CheckSkipped(Exception):
    """The deployment (its data, the client's scopes) cannot exercise the check: the run is
    incomplete. `optional`: the check belongs to an option the run was not given (--oauth1,
    --other-edorg …), so it was not required of this run."""

    def __init__(self, reason: str, *, optional: bool = False):
        super().__init__(reason)
        self.optional = optional


def ensure(condition: Any, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def skip(reason: str) -> None:
    """The check cannot run for lack of data or scope: the run is incomplete."""
    raise CheckSkipped(reason)


def not_requested(reason: str) -> None:
    """The check needs an option this run was not given: not required of it."""
    raise CheckSkipped(reason, optional=True)


@dataclass
class Exchange:
    """One HTTP request/response, cut down to an excerpt for reports."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    elapsed_ms: int = 0


@dataclass
class CheckResult:
    area: str
    name: str
    status: str
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    duration_ms: int = 0
    optional: bool = False  # a skip of a check no option asked for (not required of the run)


@dataclass
class Check:
    area: str
    name: str
    fn: Callable[..., None]


class CheckList:
    """Ordered checks of one suite; later checks may use what earlier ones stored in the context."""

    def __init__(self) -> None:
        self._checks: list[Check] = []

    def add(self, area: str, name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def register(fn: Callable[..., None]) -> Callable[..., None]:
            self._checks.append(Check(area, name, fn))
            return fn

        return register

    def extend(self, other: CheckList) -> None:
        self._checks.extend(other._checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks)


class Context:
    """State shared by the checks of one run: options, the HTTP client, values found on the way."""

    def __init__(self, options: dict[str, Any], http: Any = None) -> None:
        self.options = options
        self.http = http
        self.state: dict[str, Any] = {}
        self.cleanups: list[tuple[str, Callable[[], None]]] = []

    def need(self, *keys: str) -> Any:
        missing = [k for k in keys if self.state.get(k) is None]
        if missing:
            skip(f"needs {', '.join(missing)} from an earlier check, which did not pass")
        values = [self.state[k] for k in keys]
        return values[0] if len(values) == 1 else values


def _relevant(exchanges: list[Exchange], result: CheckResult, limit: int = 6) -> list[Exchange]:
    """The exchanges a failure names (by URL), then the last ones, for the report's excerpts."""
    text = " ".join([result.reason, *result.problems])
    named = [x for x in exchanges if x.url in text]
    chosen = named[: limit - 2] + [x for x in exchanges[-2:] if x not in named]
    return chosen[:limit]


class Suite:
    """Runs checks, catching their outcome; each result keeps the HTTP exchanges of a failure."""

    def __init__(self, name: str, target: str, context: Context) -> None:
        self.name = name
        self.target = target
        self.context = context
        self.results: list[CheckResult] = []
        self.started = time.time()
        self.on_result: Callable[[CheckResult], None] | None = None

    def run(self, checks: CheckList) -> list[CheckResult]:
        for check in checks:
            self.run_one(check.area, check.name, lambda c=check: c.fn(self.context))
        return self.results

    def run_one(self, area: str, name: str, fn: Callable[[], None]) -> CheckResult:
        http = self.context.http
        if http is not None:
            http.exchanges.clear()
        start = time.monotonic()
        result = CheckResult(area, name, PASS)
        try:
            fn()
        except CheckSkipped as exc:
            result.status, result.reason, result.optional = SKIP, str(exc), exc.optional
        except CheckFailed as exc:
            result.status, result.reason, result.problems = FAIL, exc.reason, exc.problems
        except Exception as exc:  # a crash in a check is a failure of the run, reported as such
            last = traceback.extract_tb(exc.__traceback__)[-1]
            result.status = FAIL
            result.reason = (
                f"error while checking: {type(exc).__name__}: {exc} ({last.name}:{last.lineno})"
            )
        result.duration_ms = int((time.monotonic() - start) * 1000)
        if result.status == FAIL and http is not None:
            result.exchanges = _relevant(http.exchanges, result)
        self.results.append(result)
        if self.on_result:
            self.on_result(result)
        return result

    def cleanup(self) -> None:
        """Undo what the checks created, newest first; reported as one check."""
        cleanups, self.context.cleanups = self.context.cleanups[::-1], []
        if not cleanups:
            return
        failures: list[str] = []

        def run_all() -> None:
            for label, undo in cleanups:
                try:
                    undo()
                except Exception as exc:
                    failures.append(f"{label}: {exc}")
            if failures:
                raise CheckFailed("scratch records were not all removed", failures)

        self.run_one("cleanup", "scratch records created by the suite are deleted", run_all)

    def summary(self) -> dict[str, int]:
        counts = {PASS: 0, FAIL: 0, SKIP: 0}
        for r in self.results:
            counts[r.status] += 1
        return counts

    def not_exercised(self) -> list[CheckResult]:
        """Required checks that could not run: what the run did not cover."""
        return [r for r in self.results if r.status == SKIP and not r.optional]

    @property
    def verdict(self) -> str:
        if any(r.status == FAIL for r in self.results):
            return NOT_CONFORMANT
        if self.not_exercised() or not self.results:
            return INCOMPLETE
        return CONFORMANT

    @property
    def ok(self) -> bool:
        """Conformant: every required check ran and passed."""
        return self.verdict == CONFORMANT
