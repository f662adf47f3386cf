"""The mapping bounded context: Ed-Fi ⇄ OneRoster translation, crosswalks, the projection service
and `gateway mapping verify`. Hooks called by the foundation."""

from __future__ import annotations

import click
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    """No routes: subscribe the projection to the Ed-Fi write path (same transaction)."""
    from gateway.edfi.service import WRITE_LISTENERS
    from gateway.mapping.to_oneroster.project import on_edfi_write

    if on_edfi_write not in WRITE_LISTENERS:
        WRITE_LISTENERS.append(on_edfi_write)


def init_cli(group: click.Group) -> None:
    """Add `gateway mapping verify`."""
    from gateway.mapping.cli import mapping_group

    group.add_command(mapping_group)


def bootstrap(app: Flask, *, demo: bool) -> None:
    """Projections happen inside each write; Ed-Fi data stored before the mapping existed (no
    link yet) is projected once here."""
    import sqlalchemy as sa

    from gateway.db import get_session
    from gateway.edfi.demo import has_edfi_data
    from gateway.mapping.links import mapping_links
    from gateway.mapping.to_oneroster.project import Projector

    session = get_session()
    if has_edfi_data(session) and not session.scalar(
        sa.select(sa.exists().select_from(mapping_links))
    ):
        Projector(session).rebuild_all()
        session.commit()
