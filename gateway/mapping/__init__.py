"""The mapping bounded context: Ed-Fi ⇄ OneRoster translation, crosswalks, the projection service
and `gateway mapping verify`. Hooks called by the foundation."""

from __future__ import annotations

import click
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    """No routes: subscribe the projection to the Ed-Fi write path (same transaction)."""
    from gateway.edfi.service import WRITE_LISTENERS
    from gateway.mapping.projection import on_edfi_write

    if on_edfi_write not in WRITE_LISTENERS:
        WRITE_LISTENERS.append(on_edfi_write)


def init_cli(group: click.Group) -> None:
    """Add `gateway mapping verify`."""
    from gateway.mapping.cli import mapping_group

    group.add_command(mapping_group)


def bootstrap(app: Flask, *, demo: bool) -> None:
    """Nothing to do: projections happen inside each write."""
