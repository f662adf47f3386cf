"""COPY each data file, as text, into a temporary staging table that lives for the transaction.

A staging table has one text column per header cell (c0, c1 …) and `line`, the file's line number
(the header is line 1; a quoted value spanning lines counts once). Columns are mapped by header name
afterwards, so any column order and extra `metadata.*` columns load the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from gateway.oneroster.csv.catalogue import CsvFile
from gateway.oneroster.csv.package import Package, chunks, read_header
from gateway.oneroster.csv.report import ImportReport, Issue

METADATA_PREFIX = "metadata."


@dataclass
class Staged:
    """A loaded file: where its rows are and which staging column holds each CSV column."""

    file: CsvFile
    mode: str
    table: str
    columns: dict[str, str] = field(default_factory=dict)  # CSV column name → "cN"
    metadata: dict[str, str] = field(default_factory=dict)  # metadata key → "cN"
    rows: int = 0

    def has(self, name: str) -> bool:
        return name in self.columns

    def raw(self, name: str, alias: str = "") -> str:
        """SQL for the column's text value, NULL when empty or missing from the file."""
        if name in self.columns:
            qualifier = f"{alias}." if alias else ""
            return f"NULLIF({qualifier}{self.columns[name]}, '')"
        return "NULL::text"


def _map_header(staged: Staged, header: list[str], report: ImportReport) -> None:
    known = staged.file.by_name()
    file_report = report.file(staged.file.filename)
    seen: set[str] = set()
    for index, name in enumerate(header):
        if name in seen:
            report.add(Issue(staged.file.filename, 1, name, "", "the column appears twice"))
            continue
        seen.add(name)
        if name in known:
            staged.columns[name] = f"c{index}"
        elif name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX):
            staged.metadata[name[len(METADATA_PREFIX) :]] = f"c{index}"
        else:
            file_report.warnings.append(f"column {name!r} is not in OneRoster 1.1; ignored")
    for column in staged.file.columns:
        if column.required and column.name not in staged.columns:
            report.add(
                Issue(staged.file.filename, 1, column.name, "", "required column is missing")
            )


def stage_file(
    conn: psycopg.Connection,
    package: Package,
    file: CsvFile,
    mode: str,
    report: ImportReport,
    on_bytes=None,
) -> Staged | None:
    """Load `file` into a staging table; None (with the problem reported) if it cannot be read."""
    staged = Staged(file, mode, f"csv_stage_{file.name.lower()}")
    filename = file.filename
    lines = [1]
    try:
        with package.open_text(filename) as text:
            header = read_header(text)
            if not header:
                report.add(Issue(filename, 1, "", "", "the file has no header row"))
                return None
            _map_header(staged, header, report)
            columns = [f"c{i}" for i in range(len(header))]
            conn.execute(
                sql.SQL(
                    # One session draws the numbers, so a cache keeps them consecutive while
                    # sparing the sequence an update per row.
                    "CREATE TEMP TABLE {} (line bigint GENERATED ALWAYS AS IDENTITY "
                    "(START WITH 2 CACHE 10000), {}) ON COMMIT DROP"
                ).format(
                    sql.Identifier(staged.table),
                    sql.SQL(", ").join(
                        sql.SQL("{} text").format(sql.Identifier(c)) for c in columns
                    ),
                )
            )
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                sql.Identifier(staged.table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with conn.cursor() as cur:
                with cur.copy(copy_sql) as copy:
                    for chunk in chunks(text, lines):
                        copy.write(chunk)
                        if on_bytes is not None:
                            on_bytes(len(chunk))
                copied = cur.rowcount  # the server's "COPY n": no second scan to count
    except UnicodeDecodeError:
        report.add(Issue(filename, 0, "", "", f"not valid UTF-8 (near line {lines[0] + 1})"))
        return None
    except psycopg.errors.DataError as exc:
        report.add(Issue(filename, _copy_line(exc), "", "", _copy_reason(exc)))
        return None
    staged.rows = max(copied, 0)
    report.file(filename).rows = staged.rows
    return staged


def _copy_line(exc: psycopg.Error) -> int:
    """File line of a COPY error: PostgreSQL counts data lines from 1, the file has a header."""
    context = exc.diag.context or ""
    marker = ", line "
    if marker in context:
        digits = context.split(marker, 1)[1].split(":", 1)[0].split(",", 1)[0].strip()
        if digits.isdigit():
            return int(digits) + 1
    return 0


def _copy_reason(exc: psycopg.Error) -> str:
    message = (exc.diag.message_primary or "").strip()
    if "extra data after last expected column" in message:
        return "the row has more fields than the header"
    if "missing data for column" in message:
        return "the row has fewer fields than the header"
    if "unterminated CSV quoted field" in message:
        return "a quoted field is not closed"
    return "the row is not valid CSV"
