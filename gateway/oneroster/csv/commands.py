"""`gateway import-csv` and `gateway export-csv`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gateway.oneroster.csv.report import ACTIONS, ImportReport


@contextmanager
def _app_context() -> Iterator[None]:
    """The configured (or embedded) database, migrated (else exit 2), and an app context on it."""
    from gateway.app import create_app
    from gateway.runtime import Runtime

    with Runtime() as config:
        app = create_app(config)
        with app.app_context():
            yield


class _Bar:
    """A progress bar on a terminal (stderr), nothing otherwise."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.phase = ""
        self.shown = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if phase != self.phase:
            self.close()
            label = "reading  " if phase == "load" else "applying "
            self.bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            self.bar.__enter__()
            self.phase, self.shown = phase, 0
        if self.bar is not None and done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def print_summary(report: ImportReport) -> None:
    widths = (22, 7, 12) + (9,) * len(ACTIONS)
    head = ("file", "mode", "outcome", *ACTIONS)
    click.echo("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for f in report.files.values():
        cells = (f.filename, f.mode, f.outcome, *(str(f.counts[a]) for a in ACTIONS))
        click.echo("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    for f in report.files.values():
        for warning in f.warnings:
            click.echo(f"warning: {f.filename}: {warning}")
        for issue in f.issues:
            click.echo(f"error: {issue}")
        if f.more_issues:
            click.echo(f"error: {f.filename}: … and {f.more_issues} more problems")
    click.echo(f"{report.status}: {report.message}" if report.message else report.status)


@click.command("import-csv")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="validate and count, change nothing")
@click.option("--json", "as_json", is_flag=True, help="print the full report as JSON")
@click.option(
    "--allow-deletions",
    is_flag=True,
    help="apply bulk files even when they delete more than CSV_MAX_DELETION_SHARE of an "
    "organization's records of a type (otherwise the import is held)",
)
def import_csv(package: Path, dry_run: bool, as_json: bool, allow_deletions: bool) -> None:
    """Import a OneRoster v1.1 CSV package (zip or directory), all or nothing."""
    from gateway.db import get_session
    from gateway.oneroster.csv import jobs

    bar = _Bar()
    try:
        with _app_context():
            session = get_session()
            # recorded as a job like an upload, so `gateway imports list` shows it
            job = jobs.create_job(session, client_key=None, filename=package.name, dry_run=dry_run)
            report = jobs.execute(
                session,
                job,
                package,
                None,
                progress=None if as_json else bar,
                allow_deletions=allow_deletions,
            )
    finally:
        bar.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print_summary(report)
    if report.status not in ("applied", "dry-run"):
        sys.exit(1)


@click.command("export-csv")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", default=None, help="delta of rows changed after this ISO date-time")
@click.option("--org", default=None, help="only this organization (sourcedId or Ed-Fi id)")
@click.option("--with-passwords", is_flag=True, help="include users.password (off by default)")
def export_csv(out: Path, since: str | None, org: str | None, with_passwords: bool) -> None:
    """Export OneRoster data as a v1.1 CSV package (bulk, or delta with --since)."""
    from gateway.auth.access import compute_org_scope
    from gateway.db import get_session
    from gateway.oneroster.csv.export import export_stream

    when = None
    if since:
        try:
            when = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter("not an ISO 8601 date-time", param_hint="--since") from None
        if when.tzinfo is None:
            raise click.BadParameter("needs a time zone (Z or ±hh:mm)", param_hint="--since")
    counts: dict[str, int] = {}
    with _app_context():
        session = get_session()
        scope = compute_org_scope(session, (org,)) if org else None
        if scope is not None and not scope.sourced_ids and not scope.edfi_ids:
            raise click.BadParameter(f"no organization {org}", param_hint="--org")
        partial = out.with_name(out.name + ".partial")
        with open(partial, "wb") as sink:
            for block in export_stream(
                session, since=when, scope=scope, with_passwords=with_passwords, counts=counts
            ):
                sink.write(block)
        partial.replace(out)
    for name, n in counts.items():
        click.echo(f"{name + '.csv':22} {n:>9} rows")
    click.echo(f"wrote {out}")


@click.group("imports")
def imports_group() -> None:
    """CSV import jobs (uploads and `gateway import-csv`)."""


@imports_group.command("list")
@click.option("--limit", default=25, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--json", "as_json", is_flag=True, help="the jobs as JSON")
def list_imports(limit: int, offset: int, as_json: bool) -> None:
    """Every client's import jobs, newest first: id, when, status, client, file, totals."""
    from gateway.db import get_session
    from gateway.oneroster.csv import jobs

    with _app_context():
        found, total = jobs.list_jobs(get_session(), None, limit, offset, every_client=True)
        views = [jobs.job_view(job, with_report=False) for job in found]
        clients = [job.client_key or "(cli)" for job in found]
    if as_json:
        click.echo(json.dumps({"imports": views, "total": total}, indent=2, ensure_ascii=False))
        return
    click.echo(f"{'id':36}  {'created':20}  {'status':9}  {'client':24}  {'file':24}  totals")
    for view, client in zip(views, clients, strict=True):
        totals = dict.fromkeys(ACTIONS, 0)
        for counts in (view["counts"] or {}).values():
            for action, n in counts.items():
                totals[action] = totals.get(action, 0) + n
        summary = " ".join(f"{a}={n}" for a, n in totals.items() if n)
        created = (view["createdAt"] or "")[:19] + "Z"
        click.echo(
            f"{view['id']:36}  {created:20}  {view['status']:9}  {client[:24]:24}  "
            f"{(view['filename'] or '')[:24]:24}  {summary}"
        )
    click.echo(f"{total} jobs" if total != 1 else "1 job")
