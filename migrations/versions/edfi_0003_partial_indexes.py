"""Partial indexes where most rows have nothing to index: optional references, JSONB collections.

An index over a column that is NULL in most rows still holds an entry per row, and a first load
(gateway.bulkload) rebuilds it after the rows, reading the whole table again. A OneRoster import
fills few of Ed-Fi's optional fields: its 500,000 studentSectionAssociations leave `programs`
NULL, its students, staff and school associations leave their optional references empty. Made
partial (`WHERE column IS NOT NULL`), such an index holds only the rows that have a value and is
kept, not rebuilt, during a first load (partial indexes stay: a predicate test per row).

Every lookup these indexes serve still uses them: a reference lookup compares the index's first
column with `=`, and a collection lookup uses `@>`; both are strict, so they imply `IS NOT NULL`.
The reference indexes follow the rule of gateway/edfi/migration_gen.py (`reference_indexes`): an
optional reference whose first column belongs to no required property. The lists were derived
from the resource definitions and edfi_0002, and are fixed here so this revision never changes.

Revision ID: edfi_0003
Revises: mapping_0003
"""

from alembic import op

revision = "edfi_0003"
down_revision = "mapping_0003"
branch_labels = None
depends_on = None

# (table, index, columns) of the optional references' indexes: partial on the first column
OPTIONAL_REFERENCES = [
    ("contacts", "ix_contacts_person", ("person_id", "source_system_descriptor")),
    (
        "gradebook_entries",
        "ix_gradebook_entries_gradingperiod",
        ("grading_period_descriptor", "grading_period_name", "school_id", "school_year"),
    ),
    (
        "gradebook_entries",
        "ix_gradebook_entries_section",
        ("local_course_code", "school_id", "school_year", "section_identifier", "session_name"),
    ),
    (
        "local_education_agencies",
        "ix_local_education_agencies_educationservicecenter",
        ("education_service_center_id",),
    ),
    (
        "local_education_agencies",
        "ix_local_education_agencies_parentlocaleducationagency",
        ("parent_local_education_agency_id",),
    ),
    (
        "local_education_agencies",
        "ix_local_education_agencies_stateeducationagency",
        ("state_education_agency_id",),
    ),
    ("schools", "ix_schools_charterapprovalschoolyeartype", ("charter_approval_school_year",)),
    ("schools", "ix_schools_localeducationagency", ("local_education_agency_id",)),
    (
        "sections",
        "ix_sections_location",
        ("location_classroom_identification_code", "location_school_id"),
    ),
    ("sections", "ix_sections_locationschool", ("location_school_id",)),
    (
        "staff_education_organization_assignment_associations",
        "ix_staff_education_organization_assignment_association_1a4a2d1b",
        ("credential_identifier", "state_of_issue_state_abbreviation_descriptor"),
    ),
    (
        "staff_education_organization_assignment_associations",
        "ix_staff_education_organization_assignment_association_f92bc4e5",
        (
            "employment_education_organization_id",
            "employment_status_descriptor",
            "employment_hire_date",
            "staff_unique_id",
        ),
    ),
    ("staffs", "ix_staffs_person", ("person_id", "source_system_descriptor")),
    (
        "student_school_associations",
        "ix_student_school_associations_calendar",
        ("calendar_code", "school_id", "school_year"),
    ),
    (
        "student_school_associations",
        "ix_student_school_associations_classofschoolyeartype",
        ("class_of_school_year",),
    ),
    (
        "student_school_associations",
        "ix_student_school_associations_graduationplan",
        ("education_organization_id", "graduation_plan_type_descriptor", "graduation_school_year"),
    ),
    (
        "student_school_associations",
        "ix_student_school_associations_nextyearschool",
        ("next_year_school_id",),
    ),
    (
        "student_school_associations",
        "ix_student_school_associations_schoolyeartype",
        ("school_year",),
    ),
    ("students", "ix_students_person", ("person_id", "source_system_descriptor")),
]
# (table, column, index) of the JSONB collections' GIN indexes (edfi_0002)
COLLECTIONS = [
    (
        "student_education_organization_associations",
        "addresses",
        "ixg_student_education_organization_associations_addresses",
    ),
    (
        "student_education_organization_associations",
        "ancestry_ethnic_origins",
        "ixg_student_education_organization_associations_ancestry_bc9a95",
    ),
    (
        "student_education_organization_associations",
        "cohort_years",
        "ixg_student_education_organization_associations_cohort_years",
    ),
    (
        "student_education_organization_associations",
        "disabilities",
        "ixg_student_education_organization_associations_disabilities",
    ),
    (
        "student_education_organization_associations",
        "electronic_mails",
        "ixg_student_education_organization_associations_electron_46b5fb",
    ),
    (
        "student_education_organization_associations",
        "international_addresses",
        "ixg_student_education_organization_associations_internat_8c55c4",
    ),
    (
        "student_education_organization_associations",
        "languages",
        "ixg_student_education_organization_associations_languages",
    ),
    (
        "student_education_organization_associations",
        "races",
        "ixg_student_education_organization_associations_races",
    ),
    (
        "student_education_organization_associations",
        "student_characteristics",
        "ixg_student_education_organization_associations_student__1108b0",
    ),
    (
        "student_education_organization_associations",
        "student_identification_codes",
        "ixg_student_education_organization_associations_student__a34f29",
    ),
    (
        "student_education_organization_associations",
        "telephones",
        "ixg_student_education_organization_associations_telephones",
    ),
    (
        "student_education_organization_associations",
        "tribal_affiliations",
        "ixg_student_education_organization_associations_tribal_a_85cedb",
    ),
    (
        "student_school_associations",
        "alternative_graduation_plans",
        "ixg_student_school_associations_alternative_graduation_plans",
    ),
    (
        "student_school_associations",
        "education_plans",
        "ixg_student_school_associations_education_plans",
    ),
    ("student_section_associations", "programs", "ixg_student_section_associations_programs"),
    ("students", "identification_documents", "ixg_students_identification_documents"),
    ("students", "other_names", "ixg_students_other_names"),
    (
        "students",
        "personal_identification_documents",
        "ixg_students_personal_identification_documents",
    ),
    ("students", "visas", "ixg_students_visas"),
]


def _columns(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def upgrade() -> None:
    for table, name, columns in OPTIONAL_REFERENCES:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
        op.execute(
            f'CREATE INDEX "{name}" ON "{table}" ({_columns(columns)}) '
            f'WHERE "{columns[0]}" IS NOT NULL'
        )
    for table, column, name in COLLECTIONS:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
        op.execute(
            f'CREATE INDEX "{name}" ON "{table}" USING gin ("{column}" jsonb_path_ops) '
            f'WHERE "{column}" IS NOT NULL'
        )


def downgrade() -> None:
    for table, name, columns in OPTIONAL_REFERENCES:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
        op.execute(f'CREATE INDEX "{name}" ON "{table}" ({_columns(columns)})')
    for table, column, name in COLLECTIONS:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
        op.execute(f'CREATE INDEX "{name}" ON "{table}" USING gin ("{column}" jsonb_path_ops)')
