"""The `gateway` command: serve, migrate, manage API clients (and each context's commands)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gateway.embedded import ConfigurationError, port_is_free
from gateway.runtime import Runtime

DEMO_CLIENT_NAME = "Demo client (gateway serve)"
# what `gateway audit --since/--until` accept (a time without zone is UTC)
TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"]


def _app(config):
    from gateway.app import create_app

    return create_app(config)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("k12-gateway")
    except PackageNotFoundError:
        return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", "-V", prog_name="gateway")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """K-12 interoperability gateway: Ed-Fi DS5 API, OneRoster v1.1, professional profiles.

    Logs go to stderr: LOG_LEVEL (default INFO for serve, WARNING for other commands),
    LOG_FORMAT=text|json."""
    from gateway import logs

    logs.configure("INFO" if ctx.invoked_subcommand == "serve" else "WARNING")


@cli.command()
def migrate() -> None:
    """Apply database migrations to DATABASE_URL (or the embedded database)."""
    from gateway import migrate as migrations

    with Runtime(serving=True, migrated=False) as config:
        outcome = migrations.upgrade_and_grant(
            config.MIGRATION_DATABASE_URL or "", config.DATABASE_URL or ""
        )
    click.echo("database is at the latest revision")
    if outcome is None:
        click.echo(
            "warning: DATABASE_URL serves and migrates with the same credentials; set "
            "MIGRATION_DATABASE_URL to the owner's URL and DATABASE_URL to a least-privilege "
            "role's, then run `gateway migrate` again.",
            err=True,
        )
    elif outcome.pending:
        click.echo(
            f"the serving role {outcome.role} is not ready: the migrating user may not run these. "
            "Run them as a superuser (or a role with CREATEROLE) in this database, then run "
            "`gateway migrate` again:"
        )
        click.echo("\n".join(outcome.pending))
        sys.exit(1)
    else:
        click.echo(f"serving role {outcome.role}: granted")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST")
@click.option("--port", default=8080, show_default=True, type=int, envvar="PORT")
@click.option(
    "--workers", type=int, default=None, help="gunicorn worker processes [GATEWAY_WORKERS, 2]"
)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="threads per worker [GATEWAY_THREADS; 4, with admission control MAX_IN_FLIGHT + "
    "MAX_QUEUED + 8]",
)
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the gateway with gunicorn (embedded PostgreSQL and DynamoDB unless configured)."""
    from gateway.serving import serve as run_server

    if not port_is_free(host, port):
        raise ConfigurationError(
            f"port {port} on {host} is already in use; stop what uses it or choose another "
            "with --port (make run PORT=…)"
        )
    runtime = Runtime(dynamodb=True, serving=True, migrated=False)
    with runtime:
        run_server(runtime, host, port, workers, threads)


@cli.group()
def clients() -> None:
    """Manage API clients (key and secret for OAuth2 and OAuth 1.0a)."""


@clients.command("create")
@click.option("--name", required=True)
@click.option(
    "--edorg",
    "edorgs",
    multiple=True,
    help="Ed-Fi id or OneRoster org sourcedId it reaches (with its descendants); may be repeated",
)
@click.option(
    "--all-organizations",
    is_flag=True,
    help="reaches every education organization (a district-wide integration); without it and "
    "without --edorg the client reaches none",
)
@click.option("--scope", "scopes", multiple=True, help="may be repeated; default: every scope")
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    help="namespace prefix, e.g. uri://district.org; may be repeated (one per prefix)",
)
@click.option(
    "--claim-set",
    default=None,
    help="Ed-Fi claim set authorizing its Ed-Fi requests, e.g. 'SIS Vendor' [Ed-Fi Sandbox]",
)
@click.option("--unapproved", is_flag=True, help="created unapproved: it cannot get a token")
@click.option(
    "--ownership-token",
    default=None,
    help="stamped on the Ed-Fi records it creates (OwnershipBased authorization)",
)
@click.option(
    "--access-ownership-token",
    "access_tokens",
    multiple=True,
    help="another ownership token whose records OwnershipBased lets it act on; may be repeated",
)
@click.option("--json", "as_json", is_flag=True, help='print {"key": …, "secret": …} only')
def clients_create(
    name,
    edorgs,
    all_organizations,
    scopes,
    namespaces,
    claim_set,
    unapproved,
    ownership_token,
    access_tokens,
    as_json,
) -> None:
    """Create an API client and print its key and secret."""
    from gateway.auth.clients import UnknownClaimSet, UnknownScope, create_client
    from gateway.db import get_session

    if all_organizations and edorgs:
        raise ConfigurationError("give either --edorg or --all-organizations, not both")
    with Runtime() as config:
        app = _app(config)
        with app.app_context():
            session = get_session()
            try:
                client, secret = create_client(
                    session,
                    name=name,
                    education_organization_ids=list(edorgs),
                    all_organizations=all_organizations,
                    scopes=list(scopes) or None,
                    namespace_prefixes=list(namespaces),
                    claim_set=claim_set,
                    approved=not unapproved,
                    ownership_token=ownership_token,
                    ownership_tokens=list(access_tokens),
                )
            except (UnknownScope, UnknownClaimSet) as exc:
                raise ConfigurationError(str(exc)) from exc
            session.commit()
            key = client.key
    if as_json:
        click.echo(json.dumps({"key": key, "secret": secret}))
        return
    click.echo(f"key:    {key}\nsecret: {secret}")
    if not edorgs and not all_organizations:
        click.echo(
            "note: neither --edorg nor --all-organizations given: this client reaches no "
            "education organization.",
            err=True,
        )


@clients.command("list")
@click.option("--json", "as_json", is_flag=True)
def clients_list(as_json: bool) -> None:
    """List API clients (secrets are never shown again)."""
    from gateway.auth.clients import list_clients
    from gateway.db import get_session

    with Runtime() as config:
        app = _app(config)
        with app.app_context():
            rows: list[dict[str, Any]] = [
                {
                    "key": c.key,
                    "name": c.name,
                    "education_organization_ids": c.education_organization_ids,
                    "all_organizations": c.all_organizations,
                    "namespace_prefixes": c.namespace_prefixes,
                    "claim_set": c.claim_set,
                    "ownership_token": c.ownership_token,
                    "ownership_tokens": c.ownership_tokens,
                    "scopes": c.scopes,
                    "approved": c.approved,
                    "active": c.active,
                    "created_at": c.created_at.isoformat(),
                }
                for c in list_clients(get_session())
            ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        if row["all_organizations"]:
            orgs = "(all)"
        else:
            orgs = ",".join(map(str, row["education_organization_ids"] or [])) or "(none)"
        state = "active" if row["active"] else "revoked"
        if row["active"] and not row["approved"]:
            state = "unapproved"
        namespaces = ",".join(row["namespace_prefixes"] or []) or "(none)"
        click.echo(
            f"{row['key']}  {state:10} {row['name']}  orgs={orgs}  "
            f"claim-set={row['claim_set']!r}  namespaces={namespaces}"
        )


@clients.command("revoke")
@click.argument("key")
def clients_revoke(key: str) -> None:
    """Deactivate a client and revoke its tokens."""
    from gateway.auth.clients import revoke_client
    from gateway.db import get_session

    with Runtime() as config:
        app = _app(config)
        with app.app_context():
            session = get_session()
            found = revoke_client(session, key)
            session.commit()
    if not found:
        raise ConfigurationError(f"no client with key {key}")
    click.echo(f"revoked {key}")


@clients.command("rotate")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help='print {"key": …, "secret": …} only')
def clients_rotate(key: str, as_json: bool) -> None:
    """Issue a new secret for client KEY; the old secret and every token issued with it stop
    working (a token cached in a worker lasts at most TOKEN_CACHE_SECONDS more)."""
    from gateway.auth.clients import rotate_secret
    from gateway.db import get_session

    with Runtime() as config:
        app = _app(config)
        with app.app_context():
            session = get_session()
            secret = rotate_secret(session, key)
            session.commit()
    if secret is None:
        raise ConfigurationError(f"no active client with key {key}")
    if as_json:
        click.echo(json.dumps({"key": key, "secret": secret}))
        return
    click.echo(f"key:    {key}\nsecret: {secret}")


@cli.command()
@click.option("--client", "client_key", help="client key")
@click.option(
    "--record", "record_id", help="Ed-Fi id, unique id (e.g. studentUniqueId) or sourcedId"
)
@click.option("--path", "path_prefix", help="path prefix, e.g. /data/v3/ed-fi/students")
@click.option(
    "--since", type=click.DateTime(TIME_FORMATS), help="from this time (UTC unless given)"
)
@click.option("--until", type=click.DateTime(TIME_FORMATS), help="before this time")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="at most this many rows")
@click.option("--json", "as_json", is_flag=True, help="one JSON array")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row")
def audit(client_key, record_id, path_prefix, since, until, limit, as_json, as_csv) -> None:
    """Print the audit trail (who read or changed what, when), oldest first, filtered."""
    from gateway.audit_trail import TrailFilter, read_trail, render, utc
    from gateway.db import get_session

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    where = TrailFilter(client_key, record_id, path_prefix, utc(since), utc(until), limit)
    with Runtime() as config:
        app = _app(config)
        with app.app_context():
            rows = read_trail(get_session(), where)
    click.echo(render(rows, "json" if as_json else "csv" if as_csv else "table"), nl=False)
    click.echo(f"{len(rows)} row(s)", err=True)


@cli.command()
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="retention period in days [TOMBSTONE_RETENTION_DAYS]",
)
@click.option("--dry-run", is_flag=True, help="count what would be purged, change nothing")
def purge(days: int | None, dry_run: bool) -> None:
    """Remove deletion tombstones older than the retention period (OneRoster tobedeleted
    records, Ed-Fi /deletes and /keyChanges entries), in one transaction, audited."""
    from datetime import timedelta

    from gateway.db import get_session
    from gateway.retention import purge_tombstones

    with Runtime() as config:
        days = days or config.TOMBSTONE_RETENTION_DAYS
        if not days or days < 1:
            raise ConfigurationError(
                "no retention period: pass --older-than DAYS or set TOMBSTONE_RETENTION_DAYS (≥ 1)"
            )
        app = _app(config)
        with app.app_context():
            session = get_session()
            report = purge_tombstones(session, timedelta(days=days), dry_run=dry_run)
            if not dry_run:
                session.commit()
    verb = "would purge" if dry_run else "purged"
    click.echo(f"tombstones last modified before {report.cutoff.isoformat()} ({days} days):")
    for table, count in report.counts.items():
        click.echo(f"  {table:32} {count:>9}")
    click.echo(f"{verb} {report.total} row(s)")


def _add_context_commands() -> None:
    from gateway.app import context_modules

    for module in context_modules():
        module.init_cli(cli)


_add_context_commands()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except ConfigurationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
