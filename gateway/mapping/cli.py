"""`gateway mapping verify` (and `--repair`)."""

from __future__ import annotations

import click


@click.group("mapping")
def mapping_group() -> None:
    """Ed-Fi ⇄ OneRoster mapping."""


@mapping_group.command("verify")
@click.option(
    "--repair", is_flag=True, help="Re-run the projections (both directions) where they drifted."
)
def verify_command(repair: bool) -> None:
    """Report drift between Ed-Fi records and their OneRoster projection, and between
    OneRoster-born records and their Ed-Fi projection; exit 1 on drift (or on what --repair
    could not fix)."""
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
    if drift.clean:
        click.echo("no drift")
    elif not repair:
        click.echo("drift found")
        raise SystemExit(1)
    elif drift.unrepairable:
        # Deleting Ed-Fi data is a decision the projection only takes on a OneRoster delete.
        click.echo(
            f"repaired, except {drift.unrepairable} Ed-Fi record(s) of OneRoster origin whose "
            "OneRoster source is gone: re-running the projection cannot remove them; delete them "
            "through the Ed-Fi API (or restore their OneRoster records)"
        )
        raise SystemExit(1)
    else:
        click.echo("repaired")
