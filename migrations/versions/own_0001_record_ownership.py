"""Record ownership, as the ODS/API's OwnershipBased authorization strategy (issue 16).

An API client may carry an ownership token, stamped on the Ed-Fi records it creates, and the
tokens of the records it may act on (its own included); a claim set naming OwnershipBased for an
action lets a client act only on records whose creator's token is among its tokens. This revision
adds the clients' two columns and, to every Ed-Fi table (frozen below: the tables served when it
was written), the token of the record's creator. Nullable, without a default: PostgreSQL adds such a
column without rewriting the table; records written before, or by clients without a token, own none.

Revision ID: own_0001
Revises: rls_0006
"""

from alembic import op

revision = "own_0001"
down_revision = "rls_0006"
branch_labels = None
depends_on = None

COLUMN = "created_by_ownership_token"
TABLES = (
    "academic_weeks",
    "accountability_ratings",
    "assessment_items",
    "assessment_score_range_learning_standards",
    "assessments",
    "balance_sheet_dimensions",
    "bell_schedules",
    "calendar_dates",
    "calendars",
    "chart_of_accounts",
    "class_periods",
    "cohorts",
    "community_organizations",
    "community_provider_licenses",
    "community_providers",
    "competency_objectives",
    "contacts",
    "course_offerings",
    "course_transcripts",
    "courses",
    "credentials",
    "descriptor_mappings",
    "descriptors",
    "discipline_actions",
    "discipline_incidents",
    "education_contents",
    "education_organization_intervention_prescription_associations",
    "education_organization_network_associations",
    "education_organization_networks",
    "education_organization_peer_associations",
    "education_service_centers",
    "evaluation_rubric_dimensions",
    "feeder_school_associations",
    "function_dimensions",
    "fund_dimensions",
    "gradebook_entries",
    "grades",
    "grading_periods",
    "graduation_plans",
    "intervention_prescriptions",
    "intervention_studies",
    "interventions",
    "learning_standard_equivalence_associations",
    "learning_standards",
    "local_accounts",
    "local_actuals",
    "local_budgets",
    "local_contracted_staffs",
    "local_education_agencies",
    "local_encumbrances",
    "local_payrolls",
    "locations",
    "object_dimensions",
    "objective_assessments",
    "open_staff_positions",
    "operational_unit_dimensions",
    "organization_departments",
    "people",
    "post_secondary_events",
    "post_secondary_institutions",
    "program_dimensions",
    "program_evaluation_elements",
    "program_evaluation_objectives",
    "program_evaluations",
    "programs",
    "project_dimensions",
    "report_cards",
    "restraint_events",
    "school_year_types",
    "schools",
    "section_attendance_taken_events",
    "sections",
    "sessions",
    "source_dimensions",
    "staff_absence_events",
    "staff_cohort_associations",
    "staff_discipline_incident_associations",
    "staff_education_organization_assignment_associations",
    "staff_education_organization_contact_associations",
    "staff_education_organization_employment_associations",
    "staff_leaves",
    "staff_program_associations",
    "staff_school_associations",
    "staff_section_associations",
    "staffs",
    "state_education_agencies",
    "student_academic_records",
    "student_assessment_education_organization_associations",
    "student_assessments",
    "student_cohort_associations",
    "student_competency_objectives",
    "student_contact_associations",
    "student_cte_program_associations",
    "student_discipline_incident_behavior_associations",
    "student_discipline_incident_non_offender_associations",
    "student_education_organization_associations",
    "student_education_organization_responsibility_associations",
    "student_gradebook_entries",
    "student_homeless_program_associations",
    "student_intervention_associations",
    "student_intervention_attendance_events",
    "student_language_instruction_program_associations",
    "student_migrant_education_program_associations",
    "student_neglected_or_delinquent_program_associations",
    "student_program_associations",
    "student_program_attendance_events",
    "student_program_evaluations",
    "student_school_associations",
    "student_school_attendance_events",
    "student_school_food_service_program_associations",
    "student_section_associations",
    "student_section_attendance_events",
    "student_special_education_program_associations",
    "student_special_education_program_eligibility_associations",
    "student_title_i_part_a_program_associations",
    "students",
    "survey_course_associations",
    "survey_program_associations",
    "survey_question_responses",
    "survey_questions",
    "survey_response_education_organization_target_associations",
    "survey_response_staff_target_associations",
    "survey_responses",
    "survey_section_associations",
    "survey_section_response_education_organization_target__17593489",
    "survey_section_response_staff_target_associations",
    "survey_section_responses",
    "survey_sections",
    "surveys",
)


def upgrade() -> None:
    op.execute("ALTER TABLE api_clients ADD COLUMN IF NOT EXISTS ownership_token varchar(255)")
    op.execute(
        "ALTER TABLE api_clients ADD COLUMN IF NOT EXISTS ownership_tokens jsonb "
        "NOT NULL DEFAULT '[]'::jsonb"
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE IF EXISTS {table} ADD COLUMN IF NOT EXISTS {COLUMN} varchar(255)")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE IF EXISTS {table} DROP COLUMN IF EXISTS {COLUMN}")
    op.execute("ALTER TABLE api_clients DROP COLUMN IF EXISTS ownership_tokens")
    op.execute("ALTER TABLE api_clients DROP COLUMN IF EXISTS ownership_token")
