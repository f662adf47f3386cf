"""`gateway load-interchange DIR`."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("load-interchange")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--district-namespace",
    "namespaces",
    multiple=True,
    help="Create the descriptor values the files use in this namespace (e.g. uri://gbisd.edu) "
    "when the "
    "district's descriptor interchange is not among the files.",
)
def load_interchange_command(directory: Path, namespaces: tuple[str, ...]) -> None:
    """Load Ed-Fi interchange XML files (and <resource>.ndjson files) from DIRECTORY, set-based in
    dependency order, with the checks of the API and of bulk jobs (POST /data/v3/bulkOperations).

    Prints counts per resource and every rejected record with its reason. Exits 1 when any record
    was rejected (the accepted ones stay loaded), so scripts notice partial loads.
    """
    from gateway.app import create_app
    from gateway.db import get_session
    from gateway.edfi.descriptors import seed_reference_data
    from gateway.edfi.loader import load_interchange
    from gateway.paths import DESCRIPTORS_DIR
    from gateway.runtime import Runtime

    with Runtime() as config:
        app = create_app(config)
        with app.app_context():
            session = get_session()
            for line in seed_reference_data(session, DESCRIPTORS_DIR):
                click.echo(line)
            report = load_interchange(session, directory, namespaces)
    for line in report.lines():
        click.echo(line)
    if report.rejected:
        raise SystemExit(1)
