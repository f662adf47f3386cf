"""`gateway mapping verify` (and `--repair`)."""

from __future__ import annotations

import click


@click.group("mapping")
def mapping_group() -> None:
    """Ed-Fi ⇄ OneRoster mapping."""


@mapping_group.command("verify")
@click.option("--repair", is_flag=True, help="Rebuild the OneRoster projection where it drifted.")
def verify_command(repair: bool) -> None:
    """Report drift between the Ed-Fi records and their OneRoster projection; exit 1 on drift."""
    from gateway import migrate
    from gateway.app import create_app
    from gateway.db import get_session
    from gateway.mapping.verify import check
    from gateway.runtime import Runtime

    with Runtime() as config:
        migrate.upgrade(config.DATABASE_URL)
        app = create_app(config)
        with app.app_context():
            session = get_session()
            drift = check(session, repair=repair)
            if repair:
                session.commit()
    for line in drift.lines():
        click.echo(line)
    click.echo("no drift" if drift.clean else ("repaired" if repair else "drift found"))
    if not drift.clean and not repair:
        raise SystemExit(1)
