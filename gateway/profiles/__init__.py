"""Professional profiles: a DynamoDB-backed document per educator, linked to OneRoster users."""

from __future__ import annotations

import click
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    from .routes import blp

    api.register_blueprint(blp)


def init_cli(group: click.Group) -> None:
    return None


def bootstrap(app: Flask, *, demo: bool) -> None:
    """Create the profiles table (and its two indexes) if the endpoint does not have it yet."""
    from gateway.extensions import dynamodb, dynamodb_table_name

    from .tables import ensure_tables

    ensure_tables(dynamodb(), dynamodb_table_name("profiles"))
