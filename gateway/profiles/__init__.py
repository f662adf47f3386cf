"""Professional profiles: a DynamoDB-backed document per educator, linked to OneRoster users."""

from __future__ import annotations

import click
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    from .routes import blp

    api.register_blueprint(blp)


def init_cli(group: click.Group) -> None:
    """No commands of its own: `gateway serve` creates the table through bootstrap."""


def bootstrap(app: Flask, *, demo: bool) -> None:
    """Create the profiles table (and its two indexes) if the endpoint does not have it yet.

    With ``demo``, a freshly created table gets the core data model's sample profile.
    """
    from gateway.extensions import dynamodb, dynamodb_table_name

    from .tables import ensure_tables

    table_name = dynamodb_table_name("profiles")
    created = ensure_tables(dynamodb(), table_name)
    if demo and created:
        from .demo import load_demo_profile

        load_demo_profile(dynamodb().Table(table_name))
