"""Indexes for the descriptor-in-use check of DELETE on descriptor values.

A descriptor value may be deleted only when no record uses it (gateway/edfi/usages.py asks one
EXISTS per place of use). On the student-grain tables, which grow with enrolment, those checks
would otherwise scan the table; every other table stays small per district and is scanned.
The lists were derived from the resource definitions (gateway.edfi.usages.descriptor_usages over
the resources keyed by studentUniqueId) and are fixed here so this revision never changes.

Revision ID: edfi_0002
Revises: edfi_0001
"""

from alembic import op

revision = "edfi_0002"
down_revision = "edfi_0001"
branch_labels = None
depends_on = None

# (table, column, index name): descriptor columns of the student-grain tables (btree, partial:
# most of these columns are empty, and NULLs need no entry)
DESCRIPTOR_COLUMNS = [
    (
        "student_contact_associations",
        "relation_descriptor",
        "ixd_student_contact_associations_relation_descriptor",
    ),
    (
        "student_education_organization_associations",
        "barrier_to_internet_access_in_residence_descriptor",
        "ixd_student_education_organization_associations_barrier__499a9f",
    ),
    (
        "student_education_organization_associations",
        "internet_access_type_in_residence_descriptor",
        "ixd_student_education_organization_associations_internet_e53165",
    ),
    (
        "student_education_organization_associations",
        "internet_performance_in_residence_descriptor",
        "ixd_student_education_organization_associations_internet_7ed1c5",
    ),
    (
        "student_education_organization_associations",
        "limited_english_proficiency_descriptor",
        "ixd_student_education_organization_associations_limited__f54ecc",
    ),
    (
        "student_education_organization_associations",
        "primary_learning_device_access_descriptor",
        "ixd_student_education_organization_associations_primary__435f54",
    ),
    (
        "student_education_organization_associations",
        "primary_learning_device_away_from_school_descriptor",
        "ixd_student_education_organization_associations_primary__751337",
    ),
    (
        "student_education_organization_associations",
        "primary_learning_device_provider_descriptor",
        "ixd_student_education_organization_associations_primary__2eb29c",
    ),
    (
        "student_education_organization_associations",
        "sex_descriptor",
        "ixd_student_education_organization_associations_sex_descriptor",
    ),
    (
        "student_education_organization_associations",
        "supporter_military_connection_descriptor",
        "ixd_student_education_organization_associations_supporte_ffb159",
    ),
    (
        "student_gradebook_entries",
        "assignment_late_status_descriptor",
        "ixd_student_gradebook_entries_assignment_late_status_descriptor",
    ),
    (
        "student_gradebook_entries",
        "competency_level_descriptor",
        "ixd_student_gradebook_entries_competency_level_descriptor",
    ),
    (
        "student_gradebook_entries",
        "submission_status_descriptor",
        "ixd_student_gradebook_entries_submission_status_descriptor",
    ),
    (
        "student_school_associations",
        "enrollment_type_descriptor",
        "ixd_student_school_associations_enrollment_type_descriptor",
    ),
    (
        "student_school_associations",
        "entry_grade_level_descriptor",
        "ixd_student_school_associations_entry_grade_level_descriptor",
    ),
    (
        "student_school_associations",
        "entry_grade_level_reason_descriptor",
        "ixd_student_school_associations_entry_grade_level_reason_917e85",
    ),
    (
        "student_school_associations",
        "entry_type_descriptor",
        "ixd_student_school_associations_entry_type_descriptor",
    ),
    (
        "student_school_associations",
        "exit_withdraw_type_descriptor",
        "ixd_student_school_associations_exit_withdraw_type_descriptor",
    ),
    (
        "student_school_associations",
        "graduation_plan_type_descriptor",
        "ixd_student_school_associations_graduation_plan_type_descriptor",
    ),
    (
        "student_school_associations",
        "next_year_grade_level_descriptor",
        "ixd_student_school_associations_next_year_grade_level_de_509d3f",
    ),
    (
        "student_school_associations",
        "residency_status_descriptor",
        "ixd_student_school_associations_residency_status_descriptor",
    ),
    (
        "student_school_associations",
        "school_choice_basis_descriptor",
        "ixd_student_school_associations_school_choice_basis_descriptor",
    ),
    (
        "student_section_associations",
        "attempt_status_descriptor",
        "ixd_student_section_associations_attempt_status_descriptor",
    ),
    (
        "student_section_associations",
        "repeat_identifier_descriptor",
        "ixd_student_section_associations_repeat_identifier_descriptor",
    ),
    ("students", "birth_country_descriptor", "ixd_students_birth_country_descriptor"),
    ("students", "birth_sex_descriptor", "ixd_students_birth_sex_descriptor"),
    (
        "students",
        "birth_state_abbreviation_descriptor",
        "ixd_students_birth_state_abbreviation_descriptor",
    ),
    ("students", "citizenship_status_descriptor", "ixd_students_citizenship_status_descriptor"),
    ("students", "source_system_descriptor", "ixd_students_source_system_descriptor"),
]
# JSONB collections of those tables holding descriptor fields (GIN jsonb_path_ops serves @>)
DESCRIPTOR_COLLECTIONS = [
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


def upgrade() -> None:
    for table, column, name in DESCRIPTOR_COLUMNS:
        op.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}") '
            f'WHERE "{column}" IS NOT NULL'
        )
    for table, column, name in DESCRIPTOR_COLLECTIONS:
        op.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ("{column}" jsonb_path_ops)'
        )


def downgrade() -> None:
    for _table, _column, name in DESCRIPTOR_COLUMNS + DESCRIPTOR_COLLECTIONS:
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
