"""The oneroster bounded context. Hooks called by the foundation (app factory, CLI, start-up)."""

from __future__ import annotations

import click
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the OneRoster v1.1 REST provider under /ims/oneroster/v1p1."""
    from gateway.oneroster import counts
    from gateway.oneroster.views import blp

    api.register_blueprint(blp)
    counts.init_app(app)
    from gateway.oneroster import csv

    csv.init_app(app, api)


def init_cli(group: click.Group) -> None:
    """Add this context's commands to the `gateway` command."""
    from gateway.oneroster import csv

    csv.init_cli(group)


def bootstrap(app: Flask, *, demo: bool) -> None:
    """Idempotent start-up work run by `gateway serve` after migrations."""
    from gateway.oneroster import counts, csv

    csv.bootstrap(app)
    if demo:
        from gateway.oneroster.demo_seed import seed_demo

        seed_demo()
    counts.compact_at_start_up(app)
