"""`gateway-conformance edfi|oneroster|csv …`: run a suite, a line per check, and reports."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from conformance import report
from conformance.runner import CONFORMANT, INCOMPLETE, NOT_CONFORMANT


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the JSON report to PATH (to stdout, instead of the console lines, "
        "when PATH is omitted)",
    )
    p.add_argument("--html", metavar="REPORT.html", help="write a self-contained HTML report")


def _remote(p: argparse.ArgumentParser) -> None:
    env = os.environ.get
    p.add_argument(
        "--base-url",
        default=env("CONFORMANCE_BASE_URL"),
        help="root of the deployment, e.g. http://localhost:8000 (env CONFORMANCE_BASE_URL)",
    )
    p.add_argument("--key", default=env("CONFORMANCE_KEY"), help="client key (env CONFORMANCE_KEY)")
    p.add_argument(
        "--secret", default=env("CONFORMANCE_SECRET"), help="client secret (env CONFORMANCE_SECRET)"
    )
    p.add_argument("--token-url", help="OAuth 2 token endpoint (default: BASE_URL/oauth/token)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    p.add_argument(
        "--max-records",
        type=int,
        default=5000,
        help="read at most this many records when walking a whole collection",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gateway-conformance",
        description="Check an Ed-Fi API or OneRoster v1.1 deployment, or a OneRoster CSV package, "
        "against the standards. Exit status 0 only when the run is conformant (every required "
        "check ran and passed), 1 when a check failed, 3 when it is incomplete (checks could not "
        "run for lack of data or scope; the summary lists them).",
    )
    sub = p.add_subparsers(dest="suite", required=True)

    edfi = sub.add_parser("edfi", help="Ed-Fi DS5 resource API (ODS/API 7 contract)")
    _remote(edfi)
    edfi.add_argument(
        "--edorg",
        help="education organization id the client is tied to; scratch "
        "records are created inside it",
    )
    edfi.add_argument(
        "--other-edorg",
        help="an education organization id outside the client's "
        "reach, for the authorization checks",
    )
    edfi.add_argument(
        "--paging-resource",
        default="students",
        help="collection walked by the paging checks (default students)",
    )
    _common(edfi)

    oneroster = sub.add_parser("oneroster", help="OneRoster v1.1 REST provider")
    _remote(oneroster)
    oneroster.add_argument("--token", help="use this bearer token instead of --key/--secret")
    oneroster.add_argument(
        "--oauth1",
        action="store_true",
        help="sign every request with OAuth 1.0a instead of OAuth 2",
    )
    oneroster.add_argument(
        "--signature-method",
        default="HMAC-SHA256",
        choices=["HMAC-SHA256", "HMAC-SHA1"],
        help="OAuth 1.0a signature method",
    )
    oneroster.add_argument(
        "--oneroster-path",
        default="/ims/oneroster/v1p1",
        help="path of the OneRoster root under BASE_URL",
    )
    oneroster.add_argument(
        "--paging-collection",
        default="/users",
        help="collection walked by the paging checks (default /users)",
    )
    _common(oneroster)

    csv = sub.add_parser("csv", help="OneRoster v1.1 CSV package, offline")
    csv.add_argument("package", help="PACKAGE.zip (or a directory holding the CSV files)")
    _common(csv)

    merged = sub.add_parser("report", help="render JSON reports of several runs as one HTML page")
    merged.add_argument("reports", nargs="+", metavar="REPORT.json")
    merged.add_argument("--html", metavar="REPORT.html", required=True)
    return p


def _merge(args: argparse.Namespace) -> int:
    suites = []
    for path in args.reports:
        with open(path, encoding="utf-8") as fh:
            suites.append(report.suite_from_dict(json.load(fh)))
    with open(args.html, "w", encoding="utf-8") as fh:
        fh.write(report.render_html(suites))
    for suite in suites:
        print(report.console_summary(suite))
    return max(exit_status(s) for s in suites)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.suite == "report":
        return _merge(args)
    if args.suite == "csv":
        from conformance.csvpackage import create_suite
    else:
        if not args.base_url:
            parser().error("--base-url is required (or set CONFORMANCE_BASE_URL)")
        if args.suite == "edfi":
            if not (args.key and args.secret):
                parser().error("edfi needs --key and --secret")
            from conformance.edfi import create_suite
        else:
            if not (args.token or (args.key and args.secret)):
                parser().error("oneroster needs --key and --secret, or --token")
            from conformance.oneroster import create_suite
    suite, checks = create_suite(args)

    to_stdout = args.json == "-"
    console = sys.stderr if to_stdout else sys.stdout

    def show(result: report.CheckResult) -> None:
        print(report.console_line(result), file=console, flush=True)

    suite.on_result = show
    try:
        suite.run(checks)
    finally:
        suite.cleanup()
        if suite.context.http is not None:
            suite.context.http.close()
    print(report.console_summary(suite), file=console)
    if to_stdout:
        report.write_json(suite, sys.stdout)
    elif args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            report.write_json(suite, fh)
    if args.html:
        with open(args.html, "w", encoding="utf-8") as fh:
            fh.write(report.render_html([suite]))
    return exit_status(suite)


def exit_status(suite: report.Suite) -> int:
    """0 conformant, 1 not conformant (a check failed), 3 incomplete (checks could not run)."""
    return {CONFORMANT: 0, NOT_CONFORMANT: 1, INCOMPLETE: 3}[suite.verdict]


if __name__ == "__main__":
    sys.exit(main())
