"""Natural keys that hold a person's unique id are indexed person first.

An association's natural-key unique index was built in identity order: studentSectionAssociations'
(begin_date, local_course_code, school_id, school_year, section_identifier, session_name,
student_unique_id). Its leading columns barely vary (one begin date, a few dozen course codes),
so building it, as a first load does (gateway.bulkload), compares 5-7 columns per pair of rows:
on 500,000 rows it took 2.07 s where the same columns with the student first take 0.55 s. Person
first, the unique index also serves every lookup by the person, so that reference's own index
(ix_..._student/_staff) is redundant and goes; where the old order's leading columns were a
reference that had no index of its own (a student's education organization, a gradebook entry),
that reference gets one now. student_school_associations' primary key (foundation 0001) is
already (student_unique_id, school_id, entry_date): only its redundant student index goes.

The rule is gateway/edfi/migration_gen.py's `natural_key_order` and `reference_indexes`; these
lists were derived from it and the resource definitions, and are fixed here so this revision
never changes. ON CONFLICT targets name the key's columns, not their order, so upserts are as
before; gateway.bulkload rebuilds constraints from their own definitions, so in the new order.

Revision ID: edfi_0004
Revises: rls_0001
"""

from alembic import op

revision = "edfi_0004"
down_revision = "rls_0001"
branch_labels = None
depends_on = None

# (table, unique constraint, columns before, columns after)
KEYS = [
    (
        "staff_education_organization_assignment_associations",
        "uq_staff_education_organization_assignment_associations_key",
        (
            "staff_classification_descriptor",
            "begin_date",
            "education_organization_id",
            "staff_unique_id",
        ),
        (
            "staff_unique_id",
            "education_organization_id",
            "staff_classification_descriptor",
            "begin_date",
        ),
    ),
    (
        "staff_section_associations",
        "uq_staff_section_associations_key",
        (
            "begin_date",
            "local_course_code",
            "school_id",
            "school_year",
            "section_identifier",
            "session_name",
            "staff_unique_id",
        ),
        (
            "staff_unique_id",
            "section_identifier",
            "local_course_code",
            "school_id",
            "school_year",
            "session_name",
            "begin_date",
        ),
    ),
    (
        "student_education_organization_associations",
        "uq_student_education_organization_associations_key",
        ("education_organization_id", "student_unique_id"),
        ("student_unique_id", "education_organization_id"),
    ),
    (
        "student_gradebook_entries",
        "uq_student_gradebook_entries_key",
        ("gradebook_entry_identifier", "namespace", "student_unique_id"),
        ("student_unique_id", "gradebook_entry_identifier", "namespace"),
    ),
    (
        "student_section_associations",
        "uq_student_section_associations_key",
        (
            "begin_date",
            "local_course_code",
            "school_id",
            "school_year",
            "section_identifier",
            "session_name",
            "student_unique_id",
        ),
        (
            "student_unique_id",
            "section_identifier",
            "local_course_code",
            "school_id",
            "school_year",
            "session_name",
            "begin_date",
        ),
    ),
]
# (table, index, columns) of the person references' indexes the person-first keys now serve
DROPPED = [
    (
        "staff_education_organization_assignment_associations",
        "ix_staff_education_organization_assignment_associations_staff",
        ("staff_unique_id",),
    ),
    ("staff_section_associations", "ix_staff_section_associations_staff", ("staff_unique_id",)),
    (
        "student_education_organization_associations",
        "ix_student_education_organization_associations_student",
        ("student_unique_id",),
    ),
    ("student_gradebook_entries", "ix_student_gradebook_entries_student", ("student_unique_id",)),
    (
        "student_school_associations",
        "ix_student_school_associations_student",
        ("student_unique_id",),
    ),
    (
        "student_section_associations",
        "ix_student_section_associations_student",
        ("student_unique_id",),
    ),
]
# (table, index, columns) of the references the old keys led with and the new ones do not
ADDED = [
    (
        "student_education_organization_associations",
        "ix_student_education_organization_associations_educati_ab28a5e0",
        ("education_organization_id",),
    ),
    (
        "student_gradebook_entries",
        "ix_student_gradebook_entries_gradebookentry",
        ("gradebook_entry_identifier", "namespace"),
    ),
]


def _columns(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _rekey(table: str, name: str, columns: tuple[str, ...]) -> None:
    op.execute(
        f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}", '
        f'ADD CONSTRAINT "{name}" UNIQUE ({_columns(columns)})'
    )


def _indexes(create: list, drop: list) -> None:
    for _, name, _ in drop + create:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
    for table, name, columns in create:
        op.execute(f'CREATE INDEX "{name}" ON "{table}" ({_columns(columns)})')


def upgrade() -> None:
    for table, name, _before, after in KEYS:
        _rekey(table, name, after)
    _indexes(create=ADDED, drop=DROPPED)


def downgrade() -> None:
    _indexes(create=DROPPED, drop=ADDED)
    for table, name, before, _after in KEYS:
        _rekey(table, name, before)
