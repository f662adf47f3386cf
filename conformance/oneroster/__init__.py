"""OneRoster v1.1 REST suite: `gateway-conformance oneroster --base-url URL …`."""

from __future__ import annotations

import argparse

from conformance.http import Http
from conformance.oneroster import auth, endpoints, gradebook, paging, query
from conformance.runner import CheckList, Context, Suite


def create_suite(args: argparse.Namespace) -> tuple[Suite, CheckList]:
    base = args.base_url.rstrip("/")
    options = {
        "root": base + "/" + args.oneroster_path.strip("/"),
        "token_url": args.token_url or base + "/oauth/token",
        "key": args.key,
        "secret": args.secret,
        "token": args.token,
        "oauth1": args.oauth1,
        "signature_method": args.signature_method,
        "paging_collection": "/" + args.paging_collection.strip("/"),
        "max_records": args.max_records,
    }
    context = Context(options, Http(base, timeout=args.timeout))
    checks = CheckList()
    for module in (auth, endpoints, query, paging, gradebook):
        checks.extend(module.checks)
    return Suite("OneRoster v1.1 REST", options["root"], context), checks
