"""Report renderings: one console line per check, a JSON document, a self-contained HTML page."""

from __future__ import annotations

import calendar
import html
import json
import time
from dataclasses import asdict
from typing import Any, TextIO

from conformance import __version__
from conformance.runner import (
    FAIL,
    INCOMPLETE,
    PASS,
    SKIP,
    CheckResult,
    Context,
    Exchange,
    Suite,
)

_LABEL = {PASS: "PASS", FAIL: "FAIL", SKIP: "SKIP"}


def _label(result: CheckResult) -> str:
    return "N/A " if result.optional else _LABEL[result.status]


def console_line(result: CheckResult) -> str:
    line = f"{_label(result)}  [{result.area}] {result.name}"
    if result.reason:
        line += f" — {result.reason}"
    for problem in result.problems[:20]:
        line += f"\n        {problem}"
    if len(result.problems) > 20:
        line += f"\n        … and {len(result.problems) - 20} more"
    return line


def console_summary(suite: Suite) -> str:
    """The counts and the verdict; an incomplete run lists what it could not exercise."""
    c = suite.summary()
    text = (
        f"{suite.name}: {c[PASS]} passed, {c[FAIL]} failed, {c[SKIP]} skipped "
        f"against {suite.target} — {suite.verdict.upper()}"
    )
    missing = suite.not_exercised()
    if missing:
        text += f"\n  not exercised ({len(missing)} required checks could not run):"
        text += "".join(f"\n    [{r.area}] {r.name} — {r.reason}" for r in missing)
    if suite.verdict == INCOMPLETE and not suite.results:
        text += "\n  no check ran"
    return text


def as_dict(suite: Suite) -> dict[str, Any]:
    return {
        "tool": "gateway-conformance",
        "version": __version__,
        "suite": suite.name,
        "target": suite.target,
        "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(suite.started)),
        "ok": suite.ok,
        "verdict": suite.verdict,
        "summary": suite.summary(),
        "notExercised": [f"[{r.area}] {r.name} — {r.reason}" for r in suite.not_exercised()],
        "checks": [asdict(r) for r in suite.results],
    }


def suite_from_dict(data: dict[str, Any]) -> Suite:
    """A suite back from its JSON report, to render several runs on one page."""
    suite = Suite(data["suite"], data["target"], Context({}))
    suite.started = calendar.timegm(time.strptime(data["startedAt"], "%Y-%m-%dT%H:%M:%SZ"))
    suite.results = [
        CheckResult(**{**c, "exchanges": [Exchange(**x) for x in c.get("exchanges", [])]})
        for c in data["checks"]
    ]  # its verdict is computed again from the checks
    return suite


def write_json(suite: Suite, out: TextIO) -> None:
    json.dump(as_dict(suite), out, indent=2, ensure_ascii=False)
    out.write("\n")


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:72em;
color:#1d232a;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}.meta{color:#555;margin-top:0}
.counts span{display:inline-block;margin-right:1em;padding:.2em .7em;border-radius:1em;color:#fff}
.c-pass{background:#23863a}.c-fail{background:#c62828}.c-skip{background:#8a8f98}
h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%}td{padding:.3em .5em;vertical-align:top;
border-bottom:1px solid #eee}td.s{width:4.5em;font-weight:600}
tr.pass td.s{color:#23863a}tr.fail td.s{color:#c62828}tr.skip td.s{color:#6b7079}
.reason{color:#444}ul.problems{margin:.3em 0;padding-left:1.2em;font-family:ui-monospace,monospace;
font-size:12.5px}details{margin:.4em 0}summary{cursor:pointer;color:#0b5394}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.6em;overflow:auto;font-size:12px;
white-space:pre-wrap;word-break:break-all;max-height:24em}
"""


def _exchange_text(x: Any) -> tuple[str, str]:
    req = f"{x.method} {x.url}\n" + "".join(f"{k}: {v}\n" for k, v in x.request_headers.items())
    if x.request_body:
        req += "\n" + x.request_body
    status = x.status if x.status is not None else "(no response)"
    res = f"HTTP {status}\n" + "".join(f"{k}: {v}\n" for k, v in x.response_headers.items())
    if x.response_body:
        res += "\n" + x.response_body
    return req, res


def _row(r: CheckResult) -> str:
    e = html.escape
    cells = f'<span class="name">{e(r.name)}</span>'
    if r.reason:
        cells += f'<div class="reason">{e(r.reason)}</div>'
    if r.problems:
        cells += '<ul class="problems">' + "".join(f"<li>{e(p)}</li>" for p in r.problems) + "</ul>"
    for x in r.exchanges:
        req, res = _exchange_text(x)
        cells += (
            f"<details><summary>{e(x.method)} {e(x.url)} → {e(str(x.status))}</summary>"
            f"<pre>{e(req)}</pre><pre>{e(res)}</pre></details>"
        )
    return f'<tr class="{r.status}"><td class="s">{_label(r)}</td><td>{cells}</td></tr>'


def render_html(suites: list[Suite]) -> str:
    """One page, inline CSS, no scripts or external assets: it opens from disk with no network."""
    e = html.escape
    body = []
    for suite in suites:
        c = suite.summary()
        body.append(
            f"<h1>{e(suite.name)} conformance</h1>"
            f'<p class="meta">{e(suite.target)} · '
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(suite.started))} · "
            f"{e(suite.verdict)}</p>"
            f'<p class="counts"><span class="c-pass">{c[PASS]} passed</span>'
            f'<span class="c-fail">{c[FAIL]} failed</span>'
            f'<span class="c-skip">{c[SKIP]} skipped</span></p>'
        )
        missing = suite.not_exercised()
        if missing:
            body.append(
                f"<p><b>Incomplete</b>: {len(missing)} required checks could not run</p><ul>"
                + "".join(f"<li>[{e(r.area)}] {e(r.name)} — {e(r.reason)}</li>" for r in missing)
                + "</ul>"
            )
        areas: dict[str, list[CheckResult]] = {}
        for r in suite.results:
            areas.setdefault(r.area, []).append(r)
        for area, results in areas.items():
            failed = sum(r.status == FAIL for r in results)
            body.append(
                f"<h2>{e(area)} <small>({len(results)} checks, {failed} failed)</small></h2>"
                "<table>" + "".join(_row(r) for r in results) + "</table>"
            )
    title = " + ".join(s.name for s in suites) + " conformance report"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + f'<p class="meta">gateway-conformance {__version__}</p></body></html>\n'
    )
