"""Import a OneRoster v1.1 CSV package in one transaction: stage, validate everything, apply.

Nothing is applied unless every file validates; a failure while applying rolls everything back, so
a rejected (or killed) import leaves the previous state. Imports for the same organization are
serialised by transaction-level advisory locks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import ColumnElement, false, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.oneroster.csv import checks, deletions, identity
from gateway.oneroster.csv.apply import apply_file, build_typed
from gateway.oneroster.csv.catalogue import CsvFile, catalogue
from gateway.oneroster.csv.package import Package, PackageError, read_manifest
from gateway.oneroster.csv.projection import project_import
from gateway.oneroster.csv.reach import check_org_identifiers, check_reach
from gateway.oneroster.csv.report import ImportReport, Issue
from gateway.oneroster.csv.staging import Staged, stage_file

# progress(phase, done, total): phase "load" counts characters read, "apply" counts rows applied.
Progress = Callable[[str, int, int], None]
LOCK_CLASS = "oneroster-csv"
# Errors the apply can meet with valid-looking data (e.g. a username another user holds): the
# import is rolled back and reported, never left half done or turned into a 500.
APPLY_ERRORS = (
    psycopg.errors.IntegrityError,
    psycopg.errors.DataError,
    sa_exc.IntegrityError,
    sa_exc.DataError,
)


def _driver(session: Session) -> psycopg.Connection:
    return session.connection().connection.driver_connection  # type: ignore[return-value]


def drop_work_tables(session: Session) -> None:
    """Drop this import's temporary tables now, not at commit: a caller may keep the transaction
    (tests, or a session running two imports) and the names are reused."""
    conn = _driver(session)
    names = conn.execute(
        "SELECT relname, relkind FROM pg_class WHERE relnamespace = pg_my_temp_schema() "
        "AND relkind IN ('r', 'v') AND relname LIKE 'csv\\_%' ORDER BY relkind DESC"
    ).fetchall()
    for name, kind in names:  # views first: they depend on the staging tables
        conn.execute(f'DROP {"VIEW" if kind == "v" else "TABLE"} IF EXISTS "{name}"')


def lock(session: Session, scope: OrgScope | None) -> None:
    """A district-wide import excludes every other; an organization's import excludes only
    imports touching the same organizations (taken in sorted order, so never a deadlock)."""
    if scope is None or scope.unrestricted:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:c), 0)"), {"c": LOCK_CLASS})
        return
    session.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext(:c), 0)"), {"c": LOCK_CLASS})
    for name in sorted(scope.sourced_ids):
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:c), hashtext(:n))"),
            {"c": LOCK_CLASS, "n": name},
        )


def _bulk_scope(file: CsvFile, scope: OrgScope | None) -> ColumnElement[bool] | None:
    """Which rows a bulk file may mark `tobedeleted`: all, or those in the importer's reach."""
    if scope is None or scope.unrestricted:
        return None
    from gateway.oneroster.catalogue import catalogue as rest_catalogue
    from gateway.oneroster.relations import reach_condition

    entity = rest_catalogue().entities.get(file.entity)
    if entity is None or entity.reach is None:
        return false()  # shared catalogue data: an organization's bulk file never removes it
    return reach_condition(entity, False, scope.sourced_ids)


def _constraint_column(file: CsvFile, diag: psycopg.errors.Diagnostic) -> str:
    """The CSV column behind a violated constraint (named by the naming convention)."""
    if diag.column_name:
        return next((c.name for c in file.columns if c.column == diag.column_name), "")
    name = diag.constraint_name or ""
    return next((c.name for c in file.columns if name.endswith(f"_{c.column}")), "")


def _stage_all(
    session: Session,
    package: Package,
    modes: dict[str, str],
    report: ImportReport,
    progress: Progress | None,
) -> dict[str, Staged]:
    to_load = [f for f in catalogue().files if modes.get(f.name, "absent") != "absent"]
    total = sum(package.size(f.filename) for f in to_load if package.has(f.filename))
    # Progress counts bytes: characters read so far within a file (never past its size), the
    # whole size once a file is loaded.
    done, within = [0], [0]

    def on_chars(n: int, size: int = 0) -> None:
        within[0] += n
        if progress is not None:
            progress("load", min(done[0] + within[0], done[0] + size, total), total)

    staged: dict[str, Staged] = {}
    for file in catalogue().files:
        mode = modes.get(file.name, "absent")
        file_report = report.file(file.filename)
        file_report.mode = mode
        if mode == "absent":
            file_report.outcome = "absent"
            if package.has(file.filename):
                file_report.warnings.append("the manifest marks this file absent; not read")
            continue
        if not package.has(file.filename):
            report.add(
                Issue(
                    file.filename,
                    0,
                    "",
                    "",
                    f"the manifest marks it {mode}, but the package has no such file",
                )
            )
            continue
        savepoint = session.begin_nested()  # a CSV syntax error must not end the transaction
        size = package.size(file.filename)
        within[0] = 0
        result = stage_file(
            _driver(session), package, file, mode, report, lambda n, size=size: on_chars(n, size)
        )
        done[0] += size
        if progress is not None:
            progress("load", min(done[0], total), total)
        if result is None:
            savepoint.rollback()
        else:
            savepoint.commit()
            staged[file.name] = result
    known = {f.filename for f in catalogue().files} | {catalogue().manifest["file"]}
    for name in package.filenames():
        if name not in known:  # a conformant consumer logs every file it did not import
            other = report.file(name)
            other.outcome = "ignored"
            other.warnings.append("not a OneRoster 1.1 file; not read")
    return staged


def _validate(
    session: Session, staged: dict[str, Staged], report: ImportReport, scope: OrgScope | None
) -> dict[str, Staged]:
    """Check everything; returns the files whose duplicate check is left to the primary key
    of their (empty) table, which the apply proves once it has inserted them."""
    conn = _driver(session)
    checks.create_issues_table(conn)
    ids: dict[str, str] = {}
    deferred: dict[str, Staged] = {}
    for item in staged.values():
        checks.check_values(conn, item)
        checks.warn_date_only_stamps(conn, item, report)
        if checks.duplicates_left_to_key(conn, item):
            deferred[item.file.name] = item
        else:
            checks.check_duplicates(conn, item)
        checks.check_references(conn, item, staged, ids)
    if "users" in staged:
        identity.check_people(conn, staged["users"])
    check_org_identifiers(session, staged, scope)
    if scope is not None and not scope.unrestricted:
        check_reach(session, staged, scope)
    if deferred and checks.any_issues(conn):  # rejected anyway: the report lists every problem
        _check_deferred(conn, deferred)
        deferred = {}
    checks.collect(conn, report)
    return deferred


def _check_deferred(conn: psycopg.Connection, deferred: dict[str, Staged]) -> None:
    for item in deferred.values():
        checks.check_duplicates(conn, item)


def _apply(
    session: Session,
    staged: dict[str, Staged],
    report: ImportReport,
    scope: OrgScope | None,
    progress: Progress | None,
) -> None:
    now = session.execute(text("SELECT now()")).scalar_one()  # one timestamp for the import
    total = sum(s.rows for s in staged.values())
    done = 0
    for item in staged.values():
        file_report = report.file(item.file.filename)
        try:
            typed = build_typed(_driver(session), item)
            counts = apply_file(session, typed, now, _bulk_scope(item.file, scope))
        except APPLY_ERRORS as exc:
            diag = exc.diag if isinstance(exc, psycopg.Error) else exc.orig.diag  # type: ignore
            if isinstance(exc, psycopg.errors.IntegrityError | sa_exc.IntegrityError):
                reason = "conflicts with data already in the gateway"
                reason += f" ({diag.constraint_name or 'a constraint'})"
            else:  # validation should make this unreachable; the message names no value
                reason = f"a value cannot be stored: {diag.message_primary}"
            report.add(
                Issue(item.file.filename, 0, _constraint_column(item.file, diag), "", reason)
            )
            file_report.outcome = "rejected"
            raise
        file_report.counts.update(counts)
        file_report.outcome = "imported"
        done += item.rows
        if progress is not None:
            progress("apply", done, total)
    project_import(session, {name: f"csv_typed_{name.lower()}" for name in staged})


def run_import(
    session: Session,
    path: str | Path,
    *,
    dry_run: bool = False,
    scope: OrgScope | None = None,
    progress: Progress | None = None,
    allow_deletions: bool = False,
    max_deletion_share: float | None = None,
) -> ImportReport:
    """Import the package at `path`. `scope` is the importer's organization reach (None: the
    whole gateway, as from the CLI). Commits when applied; rolls back otherwise. A bulk file
    deleting more than `max_deletion_share` (default: CSV_MAX_DELETION_SHARE) of an
    organization's records of its type holds the import, unless `allow_deletions`."""
    report = ImportReport(dry_run=dry_run)
    try:
        package = Package(path)
    except PackageError as exc:
        report.add(Issue("manifest.csv", 0, "", "", str(exc)))
        report.status = "rejected"
        return report
    with package:
        manifest = read_manifest(package, report)
        if manifest is None:
            report.status = "rejected"
            return report
        lock(session, scope)
        drop_work_tables(session)
        # Date-times without a zone are UTC, whatever the server's default. Hash joins over a
        # district's enrollments and the index builds of a first load fit in memory.
        session.execute(text("SET LOCAL TimeZone = 'UTC'"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        staged = _stage_all(session, package, manifest.modes, report, progress)
        deferred = _validate(session, staged, report, scope)
        if report.ok and not allow_deletions:
            share = deletions.max_share() if max_deletion_share is None else max_deletion_share
            bulk_scopes = {name: _bulk_scope(item.file, scope) for name, item in staged.items()}
            excess = deletions.excessive(session, staged, bulk_scopes, share)
            if excess:
                return _hold(session, report, excess, share)
        if report.ok:
            report = _apply_all(session, staged, report, scope, progress, deferred)
        if report.status == "rejected":  # a row could not be stored
            return report
        if not report.ok:
            return _reject(session, report)
        drop_work_tables(session)
        if dry_run:
            session.rollback()
            report.status = "dry-run"
            report.message = "dry run: the counts are what the import would do; nothing changed"
        else:
            session.commit()
            report.status = "applied"
    return report


def _reject(session: Session, report: ImportReport) -> ImportReport:
    for file_report in report.files.values():
        if file_report.outcome == "pending":
            file_report.outcome = "rejected" if file_report.issue_count else "not applied"
    report.status = "rejected"
    report.message = "nothing was applied: the package has problems"
    session.rollback()
    return report


def _hold(
    session: Session, report: ImportReport, excess: list[deletions.Excess], share: float
) -> ImportReport:
    held = {e.filename for e in excess}
    for e in excess:
        report.file(e.filename).warnings.append(f"{e} (more than {share:.0%}); held")
    for file_report in report.files.values():
        if file_report.outcome == "pending":
            file_report.outcome = "held" if file_report.filename in held else "not applied"
    shown = "; ".join(str(e) for e in excess[:5])
    more = f"; and {len(excess) - 5} more" if len(excess) > 5 else ""
    report.status = "held"
    report.message = (
        f"held, nothing was applied: {shown}{more} (more than {share:.0%} of an organization's "
        "records of a type). If the deletions are intended, submit the package again allowing "
        "them (allowDeletions=true, or gateway import-csv --allow-deletions)."
    )
    drop_work_tables(session)
    session.rollback()
    return report


def _apply_all(
    session: Session,
    staged: dict[str, Staged],
    report: ImportReport,
    scope: OrgScope | None,
    progress: Progress | None,
    deferred: dict[str, Staged],
) -> ImportReport:
    """Apply everything, or roll back and say why. With deferred duplicate checks the apply
    runs in a savepoint: when a deferred file's key finds a duplicate, the import goes back to
    the validated state and reports the duplicates exactly as validation would have."""
    conn = _driver(session)
    if any(not checks.duplicates_left_to_key(conn, item) for item in deferred.values()):
        # Another writer filled a table since validation: its key no longer sees every row.
        _check_deferred(conn, deferred)
        checks.collect(conn, report)
        if not report.ok:
            return report
        deferred = {}
    validated = copy.deepcopy(report) if deferred else report
    savepoint = session.begin_nested() if deferred else None
    try:
        _apply(session, staged, report, scope, progress)
    except APPLY_ERRORS as exc:
        # A duplicate row fails the key, or first another unique column (a username) that it
        # repeats: either way validation would have reported the duplicate, so look for it.
        if savepoint is not None and isinstance(exc, psycopg.errors.UniqueViolation):
            savepoint.rollback()
            _check_deferred(conn, deferred)
            checks.collect(conn, validated)
            if not validated.ok:  # rejected with the duplicates' report lines
                return validated
        session.rollback()
        report.status = "rejected"
        report.message = "nothing was applied: a row could not be stored (see the report)"
        for file_report in report.files.values():
            file_report.counts.update(dict.fromkeys(file_report.counts, 0))
            if file_report.outcome in ("pending", "imported"):
                file_report.outcome = "not applied"
        return report
    if savepoint is not None:
        savepoint.commit()
    return report
