"""`gateway mapping verify` (and `--repair`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gateway.mapping.verify import Drift


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
    from gateway.app import create_app
    from gateway.db import get_session
    from gateway.mapping.verify import check
    from gateway.runtime import Runtime

    with Runtime() as config:
        app = create_app(config)
        with app.app_context():
            session = get_session()
            drift = check(session, repair=repair)
            if repair:
                session.commit()
    for line in drift.lines():
        click.echo(line)
    verdict, code = outcome(drift, repair)
    click.echo(verdict)
    if code:
        raise SystemExit(code)


def outcome(drift: Drift, repair: bool) -> tuple[str, int]:
    """The last line of the report and the exit status."""
    if drift.clean:
        return "no drift", 0
    if not repair:
        return "drift found", 1
    if drift.collisions or drift.stopped:
        return (
            "an id is held by education organizations of different kinds (listed above): "
            "give one of them another identifier (or remove it), then run verify again",
            1,
        )
    if drift.unrepairable:
        # Deleting Ed-Fi data is a decision the projection only takes on a OneRoster delete.
        return (
            f"repaired, except {drift.unrepairable} Ed-Fi record(s) of OneRoster origin whose "
            "OneRoster source is gone: re-running the projection cannot remove them; delete them "
            "through the Ed-Fi API (or restore their OneRoster records)",
            1,
        )
    return "repaired", 0
