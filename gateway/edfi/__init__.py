"""The edfi bounded context: the Ed-Fi DS5 resource API (ODS/API 7 contract), descriptors, change
queries, metadata, and the interchange loader. Hooks called by the foundation."""

from __future__ import annotations

import click
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the Ed-Fi routes (one generic engine for every resource)."""
    from gateway.edfi.bulk_routes import blp as bulk_blp
    from gateway.edfi.views import blp

    app.register_blueprint(blp)
    app.register_blueprint(bulk_blp)  # after `blp`, which registers the URL converters


def init_cli(group: click.Group) -> None:
    """Add `gateway load-interchange DIR`."""
    from gateway.edfi.cli import load_interchange_command

    group.add_command(load_interchange_command)


def bootstrap(app: Flask, *, demo: bool) -> None:
    """Load the official descriptors if missing; with `demo`, load Grand Bend into an empty
    database."""
    from gateway.edfi.demo import bootstrap as run

    run(app, demo=demo)
