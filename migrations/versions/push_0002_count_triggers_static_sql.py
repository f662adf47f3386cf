"""OneRoster count triggers with a static statement per counted table (issue 19).

The delta of oneroster_0004's count triggers is dynamic SQL (its key expressions come from the
trigger's arguments), which PostgreSQL parses and plans at every firing: measured with
track_functions, 100–200 µs a call, and a projected OneRoster user fires two of them (the user,
its demographics) per Ed-Fi POST. The functions now hold, for each counted table and the arguments
its triggers are created with, the same statement spelled out (PL/pgSQL plans it once per session
and table); any other table or other arguments take the dynamic statement as before. Each static
statement is what the dynamic one expands to: the figures written are the same.

Revision ID: push_0002
Revises: push_0001
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "push_0002"
down_revision = "push_0001"
branch_labels = None
depends_on = None


def _load(name: str):
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# push_0001's statement parts: the columns, the key arguments, and the deltas (%1$s, %2$s: the
# two keys' expressions) with the transition table each looks at first
PUSH_0001 = _load("push_0001_count_triggers_skip_empty")
COLUMNS, ARGUMENTS, DELTAS = PUSH_0001.COLUMNS, PUSH_0001.ARGUMENTS, PUSH_0001.DELTAS

# each counted table → the arguments its count triggers are created with (oneroster_0003/0004)
TRIGGER_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "academic_sessions": ("type",),
    "organizations": ("type", "sourced_id"),
    "users": ("role", "org_ids"),
    "oneroster_courses": ("", "org_sourced_id"),
    "classes": ("", "school_sourced_id"),
    "enrollments": ("", "school_sourced_id"),
    "demographics": (),
    "resources": (),
    "categories": (),
    "line_items": (),
    "results": (),
}


def _key(arguments: tuple[str, ...], i: int) -> str:
    """What oneroster_count_discriminator(TG_ARGV[i]) returns for these arguments."""
    column = arguments[i] if i < len(arguments) else ""
    return f"coalesce({_identifier(column)}::text, '')" if column else "''::text"


def _identifier(name: str) -> str:
    """%I of format(): the names here are plain lower-case identifiers, left unquoted."""
    assert name.isidentifier() and name == name.lower(), name
    return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _static(table: str, arguments: tuple[str, ...], delta: str) -> str:
    """The dynamic statement as format() and USING would make it for `table`."""
    sql = delta.replace("%1$s", _key(arguments, 0)).replace("%2$s", _key(arguments, 1))
    sql = sql.replace("$1", _literal(table))
    return f"INSERT INTO oneroster_counts ({COLUMNS}) {sql}"


def _condition(table: str, arguments: tuple[str, ...]) -> str:
    checks = [f"TG_TABLE_NAME = {_literal(table)}", f"TG_NARGS = {len(arguments)}"]
    checks += [f"TG_ARGV[{i}] = {_literal(a)}" for i, a in enumerate(arguments)]
    return " AND ".join(checks)


def _function(name: str, first: str, delta: str, static: bool) -> str:
    dynamic = (
        f"EXECUTE format('INSERT INTO oneroster_counts ({COLUMNS}) {delta}', {ARGUMENTS})\n"
        "          USING TG_TABLE_NAME;"
    )
    if static:
        branches = [
            f"    {'IF' if n == 0 else 'ELSIF'} {_condition(table, arguments)} THEN\n"
            f"        {_static(table, arguments, delta)};\n"
            for n, (table, arguments) in enumerate(TRIGGER_ARGUMENTS.items())
        ]
        body = "".join(branches) + f"    ELSE\n        {dynamic}\n    END IF;\n"
    else:
        body = f"    {dynamic}\n"
    return f"""
CREATE OR REPLACE FUNCTION oneroster_count_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM {first}) THEN
        RETURN NULL;
    END IF;
{body}    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    for name, (first, delta) in DELTAS.items():
        op.execute(_function(name, first, delta, static=True))


def downgrade() -> None:
    for name, (first, delta) in DELTAS.items():
        op.execute(_function(name, first, delta, static=False))
