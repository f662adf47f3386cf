"""Generate the migrations that create the Ed-Fi resource tables from the resource definitions.

Run: python -m gateway.edfi.migration_gen   — writes migrations/versions/edfi_0005_all_resources.py
(the tables of every resource edfi_0001 did not create); the output is committed; review its diff
like code. edfi_0001 (the first 19 resources) stays as first committed: a later change
of rule reaches existing databases through a revision of its own, whose fixed lists a test compares
with the rule (edfi_0003: partial indexes for optional references; edfi_0004: natural keys indexed
person first). edfi_0005 was generated with today's rules, so its tables need neither.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gateway.edfi.definitions import Reference, Registry, Resource, ident, registry


def edfi_0001_tables() -> frozenset[str]:
    """The tables edfi_0001 created or completed (the rostering set first served), read from the
    migration itself; every other resource's table comes from edfi_0005."""
    from gateway.paths import MIGRATIONS_DIR

    text = (MIGRATIONS_DIR / "versions" / "edfi_0001_resources.py").read_text(encoding="utf-8")
    return frozenset(re.findall(r'op\.(?:create_table|add_column)\(\s*"([a-z_0-9]+)"', text))


def first_resources(reg: Registry | None = None) -> list[Resource]:
    """The resources of edfi_0001, in registry order."""
    reg = reg or registry()
    tables = edfi_0001_tables()
    return [r for r in reg.resources.values() if not r.descriptor and r.table_name in tables]


def later_resources(reg: Registry | None = None) -> list[Resource]:
    """The (non-descriptor) resources edfi_0001 did not create, in load order."""
    reg = reg or registry()
    first = {r.name for r in first_resources(reg)}
    return sorted(
        (r for r in reg.resources.values() if not r.descriptor and r.name not in first),
        key=lambda r: (r.order, r.name),
    )


def type_code(t: sa.types.TypeEngine) -> str:
    if isinstance(t, postgresql.JSONB):
        return "postgresql.JSONB()"
    if isinstance(t, postgresql.UUID):
        return "postgresql.UUID(as_uuid=True)"
    if isinstance(t, sa.String) and t.length:
        return f"sa.String({t.length})"
    if isinstance(t, sa.DateTime):
        return "sa.DateTime(timezone=True)"
    return f"sa.{type(t).__name__}()"


def column_code(col: sa.Column, server_default: str | None = None) -> str:
    args = [repr(col.name), type_code(col.type)]
    if not col.nullable:
        args.append("nullable=False")
    if server_default:
        args.append(f"server_default=sa.text({server_default!r})")
    return f"sa.Column({', '.join(args)})"


SYSTEM_DEFAULTS = {
    "id": "gen_random_uuid()",
    "change_version": "nextval('change_version_seq')",
    "created_at": "now()",
    "updated_at": "now()",
    "_last_modified_date": "now()",
    "origin": "'edfi'",
}


def people(reg: Registry) -> frozenset[str]:
    """The resources that are people (students, staffs, contacts): those referring to a Person."""
    return frozenset(
        r.name
        for r in reg.resources.values()
        if any(ref.entity == "Person" for ref in r.references)
    )


def _reference_columns(res: Resource, ref: Reference, reg: Registry) -> list[str]:
    """The reference's columns in its target's own key order (sectionIdentifier first for a
    section), as the target's unique index has them; the reference's order for abstract targets."""
    target = reg.resources.get(ref.targets[0]) if len(ref.targets) == 1 else None
    fields = list(ref.fields)
    if target is not None and all(name in target.identity for name, _ in fields):
        fields.sort(key=lambda f: target.identity.index(f[0]))
    return [res.columns[flat].name for _, flat in fields]


def natural_key_order(res: Resource, reg: Registry | None = None) -> list[str]:
    """The column order of `res`'s natural-key unique index.

    A key that holds a person's unique id (a reference to a student, staff or contact) starts
    with that person's column(s), in identity order: the person's id has the most distinct values,
    so building the index compares one or two columns per pair instead of 5-7 (an association's
    leading identity columns, a begin date or a school, barely vary), and the index also serves
    every lookup by the person, making that reference's own index redundant. The other identity
    references' columns follow (each in its target's key order), then the remaining key columns
    in identity order. Any other key keeps its identity order.
    """
    reg = reg or registry()
    key = res.key_columns
    refs = [ref for ref in res.references if ref.identity]
    persons = people(reg)
    person_cols = {
        c for ref in refs if set(ref.targets) & persons for c in _reference_columns(res, ref, reg)
    }
    if not person_cols & set(key):
        return key
    order = [c for c in key if c in person_cols]
    for ref in sorted(refs, key=lambda r: key.index(res.columns[r.fields[0][1]].name)):
        order += _reference_columns(res, ref, reg)
    order += key
    # a column shared by two references (a school id) or by a reference and the key comes once
    return [c for i, c in enumerate(order) if c in key and c not in order[:i]]


def reference_indexes(
    res: Resource, key: list[str] | None = None
) -> list[tuple[str, list[str], str | None]]:
    """(name, columns, the column a partial index requires, or None) of the indexes serving
    lookups by each reference of `res` (Ed-Fi query filters, dependent checks, cascades), given
    the column order of its natural-key unique index (`natural_key_order` unless `key`).

    An optional reference's index is partial, `WHERE <its first column> IS NOT NULL`, when that
    column is nullable (no required property shares it): rows without the reference need no
    entry, and a first load that leaves the reference empty (a OneRoster import) keeps the index
    as it is instead of rebuilding it (gateway.bulkload). Every lookup the index serves compares
    its first column with `=`, which already implies the predicate, so the planner still uses it.
    """
    out: list[tuple[str, list[str], str | None]] = []
    key = natural_key_order(res) if key is None else key
    t = res.table_name
    seen = {tuple(key)}
    for ref in res.references:
        cols = [res.columns[flat].name for _, flat in ref.fields]
        # an index whose columns lead the natural key is already covered by the unique index
        if tuple(cols) in seen or key[: len(cols)] == cols:
            continue
        seen.add(tuple(cols))
        optional = ref.name not in res.required and res.table.c[cols[0]].nullable
        out.append((ident(f"ix_{t}_{ref.name[:-9].lower()}"), cols, cols[0] if optional else None))
    return out


def index_lines(res: Resource) -> list[str]:
    lines = []
    t = res.table_name
    for name, cols, present in reference_indexes(res):
        where = f", postgresql_where=sa.text('{present} IS NOT NULL')" if present else ""
        lines.append(f"    op.create_index('{name}', '{t}', {cols!r}{where})")
    lines.append(
        f"    op.create_index('{ident(f'ix_{t}_change_version')}', '{t}', ['change_version'])"
    )
    return lines


def table_lines(res: Resource) -> list[str]:
    t = res.table_name
    cols = [
        column_code(c, SYSTEM_DEFAULTS.get(c.name) if c.name != "id" else None)
        for c in res.table.columns
        if c.name != "id"
    ]
    lines = [f"    op.create_table(\n        '{t}',"]
    lines.append(
        "        sa.Column('id', postgresql.UUID(as_uuid=True), primary_key=True, "
        "server_default=sa.text('gen_random_uuid()')),"
    )
    lines += [f"        {c}," for c in cols]
    lines.append(
        f"        sa.UniqueConstraint({', '.join(repr(k) for k in natural_key_order(res))}, "
        f"name='{ident(f'uq_{t}_key')}'),"
    )
    lines.append("    )")
    return lines


def student_grain_indexes(res: Resource, reg: Registry) -> list[str]:
    """Indexes for the descriptor-in-use check on a table that grows with enrolment (its key holds a
    student): partial btree on descriptor columns, GIN on JSONB columns holding descriptors — the
    rule edfi_0002 applied to the first resources."""
    from gateway.edfi.usages import descriptor_usages

    if "studentUniqueId" not in res.identity:
        return []
    t = res.table_name
    columns = sorted(
        {
            u.column
            for us in descriptor_usages(reg).values()
            for u in us
            if u.resource is res and not u.leaf
        }
    )
    collections = sorted(
        {
            u.column
            for us in descriptor_usages(reg).values()
            for u in us
            if u.resource is res and u.leaf
        }
    )
    key = set(res.key_columns)
    lines = [
        f"    op.create_index('{ident(f'ixd_{t}_{c}')}', '{t}', ['{c}'], "
        f"postgresql_where=sa.text('{c} IS NOT NULL'))"
        for c in columns
        if c not in key
    ]
    lines += [
        f"    op.create_index('{ident(f'ixg_{t}_{c}')}', '{t}', ['{c}'], postgresql_using='gin', "
        f"postgresql_ops={{'{c}': 'jsonb_path_ops'}}, postgresql_where=sa.text('{c} IS NOT NULL'))"
        for c in collections
    ]
    return lines


LATER_HEADER = '''"""Ed-Fi DS5: the tables of every resource edfi_0001 did not create (issue 16).

Generated by `python -m gateway.edfi.migration_gen` from schemas/edfi/resources.json and
schemas/edfi/storage.json with the rules of edfi_0003 and edfi_0004 (natural keys person first,
optional references' indexes partial) and edfi_0002 (descriptor-in-use indexes on the tables keyed
by a student); regenerate rather than edit by hand.

Revision ID: edfi_0005
Revises: orrest_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "edfi_0005"
down_revision = "orrest_0001"
branch_labels = None
depends_on = None

'''


def generate_later() -> str:
    """edfi_0005: the tables, reference indexes and descriptor-usage indexes of later resources."""
    reg = registry()
    up = ["def upgrade() -> None:"]
    for res in later_resources(reg):
        up += table_lines(res)
        up += index_lines(res)
        up += student_grain_indexes(res, reg)
    down = ["def downgrade() -> None:"]
    down += [f"    op.drop_table('{r.table_name}')" for r in reversed(later_resources(reg))]
    return LATER_HEADER + "\n".join(up) + "\n\n\n" + "\n".join(down) + "\n"


def main() -> None:
    from gateway.paths import MIGRATIONS_DIR

    target = MIGRATIONS_DIR / "versions" / "edfi_0005_all_resources.py"
    target.write_text(generate_later(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
