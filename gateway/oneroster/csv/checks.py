"""Set-based validation of staged files: one scan per file for value checks, one for its references,
one window for duplicates. Every problem becomes a row of `csv_issues`
(file, line, column, value, reason) before anything is applied.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from gateway.oneroster.csv.catalogue import Column, catalogue
from gateway.oneroster.csv.report import ISSUE_CAP, ImportReport, Issue
from gateway.oneroster.csv.staging import Staged

ISSUES = "csv_issues"


def insert_issues(
    conn: psycopg.Connection, filename: str, select: str, **parts: sql.Composable
) -> None:
    """Append report lines: `select` yields (file, line, col, value, reason, ord); {file} is bound
    to the file's name, the other {placeholders} to `parts`."""
    conn.execute(
        sql.SQL("INSERT INTO {issues} (file, line, col, value, reason, ord) " + select).format(
            issues=sql.Identifier(ISSUES), file=sql.Literal(filename), **parts
        )
    )


# Shapes are checked with LIKE and the type's own parser: PostgreSQL regular expressions cost
# microseconds a row, too much for half a million enrollments. The shape check keeps out the
# parser's special words ('today', 'epoch' …) and other orders of day and month. A date-time is
# the date alone or followed by 'T' or a space; whole-value LIKEs cost a third of left()/substr().
DATE_SHAPE = "____-__-__"
DATETIME_SHAPES = (DATE_SHAPE, DATE_SHAPE + "T%", DATE_SHAPE + " %")
USER_IDS_RE = r"^\s*\{[^{}:]+:[^{}]*\}(\s*,\s*\{[^{}:]+:[^{}]*\})*\s*$"
BOOLEANS = ("true", "false", "1", "0")
# The spellings producers write: matched as they are, only other values pay for lower().
USUAL_BOOLEANS = (*BOOLEANS, "TRUE", "FALSE")
NOT_NUMBERS = ("nan", "infinity", "+infinity", "-infinity", "inf", "+inf", "-inf")


def _text_array(values: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("ARRAY[{}]::text[]").format(sql.SQL(", ").join(map(sql.Literal, values)))


def _value_checks(staged: Staged, column: Column) -> list[tuple[sql.Composable, str]]:
    """(condition that marks the raw value bad, reason) for one column."""
    raw = sql.SQL(staged.raw(column.name))
    checks: list[tuple[sql.Composable, str]] = []
    if column.required:
        # A row that deletes needs only its sourcedId (and, in a delta, status and date).
        checks.append(
            (
                sql.SQL("{} IS NULL AND {} IS DISTINCT FROM 'tobedeleted'").format(
                    raw, sql.SQL(staged.raw("status"))
                ),
                "required value is missing",
            )
        )
    if staged.mode == "delta" and column.name in catalogue().required_in_delta:
        checks.append((sql.SQL("{} IS NULL").format(raw), "required in a delta file"))
    kind = column.type
    if kind == "enum":
        checks.append(
            (
                sql.SQL("{} <> ALL({})").format(raw, _text_array(column.values)),
                "must be one of: " + ", ".join(column.values),
            )
        )
    elif kind == "date":
        checks.append(
            (
                sql.SQL("NOT ({} LIKE {} AND pg_input_is_valid({}, 'date'))").format(
                    raw, sql.Literal(DATE_SHAPE), raw
                ),
                "not a date (YYYY-MM-DD)",
            )
        )
    elif kind == "datetime":
        checks.append(
            (
                sql.SQL("NOT (({shapes}) AND pg_input_is_valid({r}, 'timestamptz'))").format(
                    r=raw,
                    shapes=sql.SQL(" OR ").join(
                        sql.SQL("{} LIKE {}").format(raw, sql.Literal(shape))
                        for shape in DATETIME_SHAPES
                    ),
                ),
                "not a date-time (YYYY-MM-DDTHH:MM:SS.sssZ)",
            )
        )
    elif kind == "boolean":
        checks.append(
            (
                sql.SQL("{r} <> ALL({usual}) AND lower({r}) <> ALL({all})").format(
                    r=raw, usual=_text_array(USUAL_BOOLEANS), all=_text_array(BOOLEANS)
                ),
                "not a boolean (true, false, 1 or 0)",
            )
        )
    elif kind == "float":
        checks.append(
            (
                sql.SQL("NOT pg_input_is_valid({}, 'float8') OR lower(btrim({})) = ANY({})").format(
                    raw, raw, _text_array(NOT_NUMBERS)
                ),
                "not a number",
            )
        )
    elif kind == "year":
        checks.append(
            (
                sql.SQL("length({r}) <> 4 OR translate({r}, '0123456789', '') <> ''").format(r=raw),
                "not a four-digit year",
            )
        )
    elif kind == "user_ids":
        checks.append(
            (
                sql.SQL("{} !~ {}").format(raw, sql.Literal(USER_IDS_RE)),
                "not a list of {type:identifier}",
            )
        )
    elif kind == "list" and column.values:
        checks.append(
            (
                sql.SQL(
                    "EXISTS (SELECT 1 FROM unnest(string_to_array({}, ',')) x "
                    "WHERE btrim(x) <> ALL({}))"
                ).format(raw, _text_array(column.values)),
                "each entry must be one of: " + ", ".join(column.values),
            )
        )
    if column.max_length is not None and kind in ("string", "ref"):
        checks.append(
            (
                # Bytes first: a value of at most N bytes has at most N characters, and
                # octet_length reads only the header where length decodes the whole value.
                sql.SQL("octet_length({r}) > {n} AND length({r}) > {n}").format(
                    r=raw, n=sql.Literal(column.max_length)
                ),
                f"longer than {column.max_length} characters",
            )
        )
    return checks


def create_issues_table(conn: psycopg.Connection) -> None:
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {ISSUES} "
        "(file text, line bigint, col text, value text, reason text, ord int) ON COMMIT DROP"
    )


def check_values(conn: psycopg.Connection, staged: Staged) -> None:
    rows = []
    conditions = []
    for order, column in enumerate(staged.file.columns):
        if not staged.has(column.name):
            continue  # a missing required column is reported once, on the header line
        for condition, reason in _value_checks(staged, column):
            conditions.append(sql.SQL("({})").format(condition))
            rows.append(
                sql.SQL("(CASE WHEN {} THEN {} END, {}, {}, {})").format(
                    condition,
                    sql.Literal(column.name),
                    sql.SQL(staged.raw(column.name)),
                    sql.Literal(reason),
                    sql.Literal(order),
                )
            )
    if not rows:
        return
    insert_issues(
        conn,
        staged.file.filename,
        "SELECT {file}, s.line, v.col, v.value, v.reason, v.ord "
        "FROM (SELECT * FROM {stage} WHERE {any_bad}) s "
        "CROSS JOIN LATERAL (VALUES {rows}) v(col, value, reason, ord) WHERE v.col IS NOT NULL",
        stage=sql.Identifier(staged.table),
        # One cheap pass finds the bad rows; only they are spelled out column by column.
        any_bad=sql.SQL(" OR ").join(conditions),
        rows=sql.SQL(", ").join(rows),
    )


def warn_date_only_stamps(conn: psycopg.Connection, staged: Staged, report: ImportReport) -> None:
    """1.1 writes dateLastModified as a date-time; a date alone is accepted (midnight UTC), and the
    report says how many rows gave one and where the first is."""
    if not staged.has("dateLastModified"):
        return
    row = conn.execute(
        sql.SQL("SELECT count(*), min(line) FROM {} WHERE {} LIKE {}").format(
            sql.Identifier(staged.table),
            sql.SQL(staged.raw("dateLastModified")),
            sql.Literal(DATE_SHAPE),
        )
    ).fetchone()
    count, first = row if row is not None else (0, None)
    if count:
        rows = "1 row gives" if count == 1 else f"{count} rows give"
        report.file(staged.file.filename).warnings.append(
            f"dateLastModified: {rows} a date without a time (first: line {first}); "
            "read as midnight UTC"
        )


def check_duplicates(conn: psycopg.Connection, staged: Staged) -> None:
    sourced_id = sql.SQL(staged.raw("sourcedId"))
    stage = sql.Identifier(staged.table)
    # A hash aggregate answers "any duplicate?" fast; lines are looked up only when there are.
    found = conn.execute(
        sql.SQL(
            "SELECT EXISTS (SELECT 1 FROM {stage} WHERE {sid} IS NOT NULL "
            "GROUP BY {sid} HAVING count(*) > 1)"
        ).format(sid=sourced_id, stage=stage)
    ).fetchone()
    if not found or not found[0]:
        return
    insert_issues(
        conn,
        staged.file.filename,
        "SELECT {file}, line, 'sourcedId', sid, "
        "'duplicate sourcedId (first on line ' || first_line || ')', 0 FROM ("
        " SELECT line, {sid} AS sid, min(line) OVER (PARTITION BY {sid}) AS first_line"
        " FROM {stage} WHERE {sid} IS NOT NULL) d WHERE line > first_line",
        sid=sourced_id,
        stage=stage,
    )


def duplicates_left_to_key(conn: psycopg.Connection, staged: Staged) -> bool:
    """Whether the target table's primary key can find this file's duplicates instead of a
    hash aggregate over the file: on a first load (the table is empty) every row of a file
    without `tobedeleted` rows is inserted, so a duplicate sourcedId fails the key."""
    found = conn.execute(
        sql.SQL(
            "SELECT NOT EXISTS (SELECT 1 FROM {target}) "
            "AND NOT EXISTS (SELECT 1 FROM {stage} WHERE {status} = 'tobedeleted')"
        ).format(
            target=sql.Identifier(staged.file.table.name),
            stage=sql.Identifier(staged.table),
            status=sql.SQL(staged.raw("status")),
        )
    ).fetchone()
    return bool(found and found[0])


def any_issues(conn: psycopg.Connection) -> bool:
    found = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {ISSUES})").fetchone()
    return bool(found and found[0])


def build_target_ids(conn: psycopg.Connection, name: str, staged: dict[str, Staged]) -> str:
    """Temp table of the sourcedIds of `name` that will be active once the package is applied."""
    table = f"csv_ids_{name.lower()}"
    target = catalogue().file(name)
    parts: list[sql.Composable] = []
    own = staged.get(name)
    existing = sql.SQL("SELECT sourced_id FROM {t} WHERE status = 'active'").format(
        t=sql.Identifier(target.table.name)
    )
    if own is not None:
        sid, status = sql.SQL(own.raw("sourcedId")), sql.SQL(own.raw("status"))
        parts.append(
            sql.SQL(
                "SELECT {sid} FROM {stage} WHERE {sid} IS NOT NULL AND "
                "COALESCE({status}, 'active') = 'active'"
            ).format(sid=sid, status=status, stage=sql.Identifier(own.table))
        )
        if own.mode != "bulk":  # bulk: whatever the file lacks is about to be deleted
            parts.append(
                sql.SQL(
                    "{existing} EXCEPT SELECT {sid} FROM {stage} WHERE {status} = 'tobedeleted'"
                ).format(existing=existing, sid=sid, stage=sql.Identifier(own.table), status=status)
            )
    else:
        parts.append(existing)
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {t} ON COMMIT DROP AS SELECT DISTINCT * FROM ({q}) u(sourced_id)"
        ).format(
            t=sql.Identifier(table),
            q=sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(p) for p in parts),
        )
    )
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    return table


def check_references(
    conn: psycopg.Connection, staged_file: Staged, staged: dict[str, Staged], ids: dict[str, str]
) -> None:
    """One pass over the file for all its single references, one more per list of them."""
    singles: list[tuple[int, str, sql.Composable, str, str]] = []  # ord, col, raw, ids, reason
    for order, column in enumerate(staged_file.file.columns):
        if column.ref is None or not staged_file.has(column.name):
            continue
        if column.ref not in ids:
            ids[column.ref] = build_target_ids(conn, column.ref, staged)
        raw = sql.SQL(staged_file.raw(column.name))
        target = catalogue().file(column.ref)
        reason = f"no active {target.entity} with this sourcedId in the package or the gateway"
        if column.type == "ref_list":
            values = sql.SQL(
                "CROSS JOIN LATERAL "
                "(SELECT btrim(x) AS v FROM unnest(string_to_array({}, ',')) x) e"
            ).format(raw)
            _insert_missing(conn, staged_file, column.name, order, values, ids[column.ref], reason)
        else:
            singles.append((order, column.name, raw, ids[column.ref], reason))
    if not singles:
        return
    # Left joins, not NOT IN: a hash join spills to disk when the ids outgrow work_mem, a hashed
    # NOT IN would fall back to a scan of the ids per row. The ids tables are distinct.
    joins = sql.SQL(" ").join(
        sql.SQL("LEFT JOIN {ids} i{n} ON i{n}.sourced_id = {raw}").format(
            ids=sql.Identifier(table), n=sql.Literal(n), raw=raw
        )
        for n, (_order, _name, raw, table, _reason) in enumerate(singles)
    )
    missing = [
        sql.SQL("({raw} IS NOT NULL AND i{n}.sourced_id IS NULL)").format(raw=raw, n=sql.Literal(n))
        for n, (_order, _name, raw, _table, _reason) in enumerate(singles)
    ]
    spelled = [
        sql.SQL("(CASE WHEN {missing} THEN {col} END, {raw}, {reason}, {ord})").format(
            missing=condition,
            col=sql.Literal(name),
            raw=raw,
            reason=sql.Literal(reason),
            ord=sql.Literal(order),
        )
        for condition, (order, name, raw, _table, reason) in zip(missing, singles, strict=True)
    ]
    insert_issues(
        conn,
        staged_file.file.filename,
        "SELECT {file}, s.line, v.col, v.value, v.reason, v.ord FROM {stage} s {joins} "
        "CROSS JOIN LATERAL (VALUES {spelled}) v(col, value, reason, ord) "
        "WHERE COALESCE({status}, 'active') <> 'tobedeleted' AND ({any_missing}) "
        "AND v.col IS NOT NULL",
        stage=sql.Identifier(staged_file.table),
        joins=joins,
        status=sql.SQL(staged_file.raw("status")),
        any_missing=sql.SQL(" OR ").join(missing),
        spelled=sql.SQL(", ").join(spelled),
    )


def _insert_missing(
    conn: psycopg.Connection,
    staged_file: Staged,
    name: str,
    order: int,
    values: sql.Composable,
    ids: str,
    reason: str,
) -> None:
    insert_issues(
        conn,
        staged_file.file.filename,
        "SELECT {file}, s.line, {col}, e.v, {reason}, {ord} FROM {stage} s {values} "
        "WHERE e.v IS NOT NULL AND e.v <> '' "
        "AND COALESCE({status}, 'active') <> 'tobedeleted' "
        "AND NOT EXISTS (SELECT 1 FROM {ids} i WHERE i.sourced_id = e.v)",
        col=sql.Literal(name),
        reason=sql.Literal(reason),
        ord=sql.Literal(order),
        stage=sql.Identifier(staged_file.table),
        values=values,
        status=sql.SQL(staged_file.raw("status")),
        ids=sql.Identifier(ids),
    )


def collect(conn: psycopg.Connection, report: ImportReport) -> None:
    """Move the issues found into the report: counts per file, the first ISSUE_CAP in line order."""
    totals = conn.execute(
        f"SELECT file, count(*), count(DISTINCT line) FROM {ISSUES} GROUP BY file"
    ).fetchall()
    for filename, count, lines in totals:
        file_report = report.file(filename)
        room = max(ISSUE_CAP - len(file_report.issues), 0)
        for line, col, value, reason in conn.execute(
            f"SELECT line, col, value, reason FROM {ISSUES} WHERE file = %s "
            "ORDER BY line, ord, value LIMIT %s",
            (filename, room),
        ):
            file_report.issues.append(Issue(filename, line, col, value or "", reason))
        file_report.issue_count += count
        file_report.counts["rejected"] = lines
