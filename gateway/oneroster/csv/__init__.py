"""OneRoster v1.1 CSV: bulk/delta import (staged through COPY, validated set-based, applied in one
transaction) and export. `init_app` and `init_cli` are called from gateway.oneroster."""

from __future__ import annotations

import click
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    from gateway.oneroster.csv.routes import blp

    api.register_blueprint(blp)


def init_cli(group: click.Group) -> None:
    from gateway.oneroster.csv.commands import export_csv, import_csv, imports_group

    group.add_command(import_csv)
    group.add_command(export_csv)
    group.add_command(imports_group)


def bootstrap(app: Flask) -> None:
    """Start-up: close the jobs of workers that died (see lease.py)."""
    from gateway.db import get_session
    from gateway.oneroster.csv.lease import expire_stale

    with app.app_context():
        expire_stale(get_session())
