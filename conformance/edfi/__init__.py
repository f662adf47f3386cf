"""Ed-Fi DS5 / ODS-API 7 suite: `gateway-conformance edfi --base-url URL --key K --secret S`."""

from __future__ import annotations

import argparse

from conformance.edfi import (
    authz,
    changes,
    discovery,
    lifecycle,
    paging,
    references,
    shapes,
    wire,
)
from conformance.http import Http
from conformance.runner import CheckList, Context, Suite


def create_suite(args: argparse.Namespace) -> tuple[Suite, CheckList]:
    base = args.base_url.rstrip("/")
    options = {
        "token_url": args.token_url or base + "/oauth/token",
        "key": args.key,
        "secret": args.secret,
        "edorg": args.edorg,
        "other_edorg": args.other_edorg,
        "paging_resource": args.paging_resource.strip("/"),
        "max_records": args.max_records,
    }
    context = Context(options, Http(base, timeout=args.timeout))
    checks = CheckList()
    # Order matters: the lifecycle's scratch course is used by reference and change checks,
    # and deleted by the last lifecycle check.
    for module in (discovery, shapes, lifecycle, references, changes, paging, wire, authz):
        checks.extend(module.checks)
    return Suite("Ed-Fi API", base, context), checks
