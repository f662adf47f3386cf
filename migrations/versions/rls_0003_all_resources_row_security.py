"""Tenant isolation in the database for every Ed-Fi resource rls_0002 did not govern (issue 16).

The tables edfi_0005 created get rls_0002's treatment: the NOLOGIN role `gateway_reader` may read
them, and where a resource's records reach education organizations (schemas/edfi/authorization.json,
derived per resource from the securable elements it carries: gateway.edfi.security.rules) a policy
gives that role only the rows the request's organizations reach, by the same conditions rls_0002
builds (its functions are used here). Tables whose records carry no education organization nor
person (assessment catalogues, surveys, finance dimensions, school year types) are readable as the
descriptors are: their claim sets authorize them by namespace or not at all, in the application.

Tombstones and key changes of the newly governed resources follow their organizations too: the
policy on edfi_tracked_changes is replaced by one listing rls_0002's and these resources.

The rules are frozen below (gateway.edfi.security.table_rules printed them for the resources of
edfi_0005); tests/edfi/test_row_security_migration.py compares them with the application's.

Revision ID: rls_0003
Revises: edfi_0005
"""

import importlib.util
import logging
from pathlib import Path

from alembic import op

revision = "rls_0003"
down_revision = "edfi_0005"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def _rls_0002():
    path = Path(__file__).with_name("rls_0002_edfi_row_security.py")
    spec = importlib.util.spec_from_file_location("rls_0002_edfi_row_security", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RLS_0002 = _rls_0002()
ROLE, POLICY, TRACKED = RLS_0002.ROLE, RLS_0002.POLICY, RLS_0002.TRACKED

# table → {"edorg": its own education organization column, "via": chains of hops}; a hop is
# [table, {column of the previous hop: column of this table}, education organization column].
RULES: dict[str, dict] = {
    "academic_weeks": {"edorg": "school_id"},
    "accountability_ratings": {"edorg": "education_organization_id"},
    "assessments": {"edorg": "education_organization_id"},
    "bell_schedules": {"edorg": "school_id"},
    "chart_of_accounts": {"edorg": "education_organization_id"},
    "class_periods": {"edorg": "school_id"},
    "cohorts": {"edorg": "education_organization_id"},
    "community_organizations": {"edorg": "community_organization_id"},
    "community_provider_licenses": {"edorg": "community_provider_id"},
    "community_providers": {"edorg": "community_provider_id"},
    "competency_objectives": {"edorg": "education_organization_id"},
    "course_transcripts": {"edorg": "education_organization_id"},
    "discipline_actions": {
        "via": [
            [
                [
                    "student_school_associations",
                    {"student_unique_id": "student_unique_id"},
                    "school_id",
                ]
            ]
        ]
    },
    "discipline_incidents": {"edorg": "school_id"},
    "education_organization_intervention_prescription_associations": {
        "edorg": "education_organization_id"
    },
    "education_organization_network_associations": {"edorg": "education_organization_network_id"},
    "education_organization_networks": {"edorg": "education_organization_network_id"},
    "education_organization_peer_associations": {"edorg": "education_organization_id"},
    "education_service_centers": {"edorg": "education_service_center_id"},
    "evaluation_rubric_dimensions": {"edorg": "program_education_organization_id"},
    "feeder_school_associations": {"edorg": "school_id"},
    "grades": {"edorg": "school_id"},
    "grading_periods": {"edorg": "school_id"},
    "graduation_plans": {"edorg": "education_organization_id"},
    "intervention_prescriptions": {"edorg": "education_organization_id"},
    "intervention_studies": {"edorg": "education_organization_id"},
    "interventions": {"edorg": "education_organization_id"},
    "local_accounts": {"edorg": "education_organization_id"},
    "local_actuals": {"edorg": "education_organization_id"},
    "local_budgets": {"edorg": "education_organization_id"},
    "local_contracted_staffs": {"edorg": "education_organization_id"},
    "local_encumbrances": {"edorg": "education_organization_id"},
    "local_payrolls": {"edorg": "education_organization_id"},
    "locations": {"edorg": "school_id"},
    "open_staff_positions": {"edorg": "education_organization_id"},
    "organization_departments": {"edorg": "parent_education_organization_id"},
    "post_secondary_events": {
        "via": [
            [
                [
                    "student_school_associations",
                    {"student_unique_id": "student_unique_id"},
                    "school_id",
                ]
            ]
        ]
    },
    "post_secondary_institutions": {"edorg": "post_secondary_institution_id"},
    "program_evaluation_elements": {"edorg": "program_education_organization_id"},
    "program_evaluation_objectives": {"edorg": "program_education_organization_id"},
    "program_evaluations": {"edorg": "program_education_organization_id"},
    "programs": {"edorg": "education_organization_id"},
    "report_cards": {"edorg": "education_organization_id"},
    "restraint_events": {"edorg": "school_id"},
    "section_attendance_taken_events": {"edorg": "school_id"},
    "staff_absence_events": {
        "via": [
            [
                [
                    "staff_education_organization_assignment_associations",
                    {"staff_unique_id": "staff_unique_id"},
                    "education_organization_id",
                ]
            ],
            [["staff_section_associations", {"staff_unique_id": "staff_unique_id"}, "school_id"]],
        ]
    },
    "staff_cohort_associations": {"edorg": "education_organization_id"},
    "staff_discipline_incident_associations": {"edorg": "school_id"},
    "staff_education_organization_contact_associations": {"edorg": "education_organization_id"},
    "staff_education_organization_employment_associations": {"edorg": "education_organization_id"},
    "staff_leaves": {
        "via": [
            [
                [
                    "staff_education_organization_assignment_associations",
                    {"staff_unique_id": "staff_unique_id"},
                    "education_organization_id",
                ]
            ],
            [["staff_section_associations", {"staff_unique_id": "staff_unique_id"}, "school_id"]],
        ]
    },
    "staff_program_associations": {"edorg": "program_education_organization_id"},
    "staff_school_associations": {"edorg": "school_id"},
    "state_education_agencies": {"edorg": "state_education_agency_id"},
    "student_academic_records": {"edorg": "education_organization_id"},
    "student_assessment_education_organization_associations": {
        "edorg": "education_organization_id"
    },
    "student_assessments": {
        "via": [
            [
                [
                    "student_school_associations",
                    {"student_unique_id": "student_unique_id"},
                    "school_id",
                ]
            ]
        ]
    },
    "student_cte_program_associations": {"edorg": "education_organization_id"},
    "student_cohort_associations": {"edorg": "education_organization_id"},
    "student_competency_objectives": {"edorg": "objective_education_organization_id"},
    "student_discipline_incident_behavior_associations": {"edorg": "school_id"},
    "student_discipline_incident_non_offender_associations": {"edorg": "school_id"},
    "student_education_organization_responsibility_associations": {
        "edorg": "education_organization_id"
    },
    "student_homeless_program_associations": {"edorg": "education_organization_id"},
    "student_intervention_associations": {"edorg": "education_organization_id"},
    "student_intervention_attendance_events": {"edorg": "education_organization_id"},
    "student_language_instruction_program_associations": {"edorg": "education_organization_id"},
    "student_migrant_education_program_associations": {"edorg": "education_organization_id"},
    "student_neglected_or_delinquent_program_associations": {"edorg": "education_organization_id"},
    "student_program_associations": {"edorg": "education_organization_id"},
    "student_program_attendance_events": {"edorg": "education_organization_id"},
    "student_program_evaluations": {"edorg": "program_education_organization_id"},
    "student_school_attendance_events": {"edorg": "school_id"},
    "student_school_food_service_program_associations": {"edorg": "education_organization_id"},
    "student_section_attendance_events": {"edorg": "school_id"},
    "student_special_education_program_associations": {"edorg": "education_organization_id"},
    "student_special_education_program_eligibility_associations": {
        "edorg": "education_organization_id"
    },
    "student_title_i_part_a_program_associations": {"edorg": "education_organization_id"},
    "survey_course_associations": {"edorg": "education_organization_id"},
    "survey_program_associations": {"edorg": "education_organization_id"},
    "survey_response_education_organization_target_associations": {
        "edorg": "education_organization_id"
    },
    "survey_response_staff_target_associations": {
        "via": [
            [
                [
                    "staff_education_organization_assignment_associations",
                    {"staff_unique_id": "staff_unique_id"},
                    "education_organization_id",
                ]
            ],
            [["staff_section_associations", {"staff_unique_id": "staff_unique_id"}, "school_id"]],
        ]
    },
    "survey_section_associations": {"edorg": "school_id"},
    "survey_section_response_education_organization_target__17593489": {
        "edorg": "education_organization_id"
    },
    "survey_section_response_staff_target_associations": {
        "via": [
            [
                [
                    "staff_education_organization_assignment_associations",
                    {"staff_unique_id": "staff_unique_id"},
                    "education_organization_id",
                ]
            ],
            [["staff_section_associations", {"staff_unique_id": "staff_unique_id"}, "school_id"]],
        ]
    },
    "surveys": {"edorg": "education_organization_id"},
}
GOVERNED_RESOURCES = (
    "academicWeeks",
    "accountabilityRatings",
    "assessments",
    "bellSchedules",
    "chartOfAccounts",
    "classPeriods",
    "cohorts",
    "communityOrganizations",
    "communityProviderLicenses",
    "communityProviders",
    "competencyObjectives",
    "courseTranscripts",
    "disciplineActions",
    "disciplineIncidents",
    "educationOrganizationInterventionPrescriptionAssociations",
    "educationOrganizationNetworkAssociations",
    "educationOrganizationNetworks",
    "educationOrganizationPeerAssociations",
    "educationServiceCenters",
    "evaluationRubricDimensions",
    "feederSchoolAssociations",
    "grades",
    "gradingPeriods",
    "graduationPlans",
    "interventionPrescriptions",
    "interventionStudies",
    "interventions",
    "localAccounts",
    "localActuals",
    "localBudgets",
    "localContractedStaffs",
    "localEncumbrances",
    "localPayrolls",
    "locations",
    "openStaffPositions",
    "organizationDepartments",
    "postSecondaryEvents",
    "postSecondaryInstitutions",
    "programEvaluationElements",
    "programEvaluationObjectives",
    "programEvaluations",
    "programs",
    "reportCards",
    "restraintEvents",
    "sectionAttendanceTakenEvents",
    "staffAbsenceEvents",
    "staffCohortAssociations",
    "staffDisciplineIncidentAssociations",
    "staffEducationOrganizationContactAssociations",
    "staffEducationOrganizationEmploymentAssociations",
    "staffLeaves",
    "staffProgramAssociations",
    "staffSchoolAssociations",
    "stateEducationAgencies",
    "studentAcademicRecords",
    "studentAssessmentEducationOrganizationAssociations",
    "studentAssessments",
    "studentCTEProgramAssociations",
    "studentCohortAssociations",
    "studentCompetencyObjectives",
    "studentDisciplineIncidentBehaviorAssociations",
    "studentDisciplineIncidentNonOffenderAssociations",
    "studentEducationOrganizationResponsibilityAssociations",
    "studentHomelessProgramAssociations",
    "studentInterventionAssociations",
    "studentInterventionAttendanceEvents",
    "studentLanguageInstructionProgramAssociations",
    "studentMigrantEducationProgramAssociations",
    "studentNeglectedOrDelinquentProgramAssociations",
    "studentProgramAssociations",
    "studentProgramAttendanceEvents",
    "studentProgramEvaluations",
    "studentSchoolAttendanceEvents",
    "studentSchoolFoodServiceProgramAssociations",
    "studentSectionAttendanceEvents",
    "studentSpecialEducationProgramAssociations",
    "studentSpecialEducationProgramEligibilityAssociations",
    "studentTitleIPartAProgramAssociations",
    "surveyCourseAssociations",
    "surveyProgramAssociations",
    "surveyResponseEducationOrganizationTargetAssociations",
    "surveyResponseStaffTargetAssociations",
    "surveySectionAssociations",
    "surveySectionResponseEducationOrganizationTargetAssociations",
    "surveySectionResponseStaffTargetAssociations",
    "surveys",
)
UNGOVERNED_TABLES = (
    "assessment_items",
    "assessment_score_range_learning_standards",
    "balance_sheet_dimensions",
    "credentials",
    "descriptor_mappings",
    "education_contents",
    "function_dimensions",
    "fund_dimensions",
    "learning_standard_equivalence_associations",
    "learning_standards",
    "object_dimensions",
    "objective_assessments",
    "operational_unit_dimensions",
    "people",
    "program_dimensions",
    "project_dimensions",
    "school_year_types",
    "source_dimensions",
    "survey_question_responses",
    "survey_questions",
    "survey_responses",
    "survey_section_responses",
    "survey_sections",
)


def tracked_condition(governed: tuple[str, ...]) -> str:
    """rls_0002's tombstone condition over another list of governed resources."""
    before = ", ".join(f"'{name}'" for name in RLS_0002.GOVERNED_RESOURCES)
    after = ", ".join(f"'{name}'" for name in governed)
    condition = RLS_0002.tracked_condition()
    assert f"NOT IN ({before})" in condition, "rls_0002's tombstone condition changed shape"
    return condition.replace(f"NOT IN ({before})", f"NOT IN ({after})", 1)


def enabled() -> bool:
    """Whether rls_0002 put its policies in place (it leaves them off when the migrating user
    may not use the reader role): these follow it."""
    return bool(
        op.get_bind()
        .exec_driver_sql(
            "SELECT count(*) FROM pg_policies WHERE policyname = %(p)s AND tablename = %(t)s",
            {"p": POLICY, "t": TRACKED},
        )
        .scalar()
    )


def _replace_tracked(governed: tuple[str, ...]) -> None:
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {TRACKED}")
    op.execute(
        f"CREATE POLICY {POLICY} ON {TRACKED} FOR SELECT TO {ROLE} "
        f"USING ({tracked_condition(governed)})"
    )


def upgrade() -> None:
    if not enabled():
        log.warning("row-level security is off (see rls_0002): no policies for the new tables")
        return
    op.execute(f"GRANT SELECT ON {', '.join([*sorted(RULES), *UNGOVERNED_TABLES])} TO {ROLE}")
    for table, rule in RULES.items():
        using = RLS_0002.condition(table, rule)
        op.execute(f"CREATE POLICY {POLICY} ON {table} FOR SELECT TO {ROLE} USING ({using})")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    _replace_tracked((*RLS_0002.GOVERNED_RESOURCES, *GOVERNED_RESOURCES))


def downgrade() -> None:
    if not enabled():
        return
    _replace_tracked(RLS_0002.GOVERNED_RESOURCES)
    for table in RULES:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute(f"REVOKE SELECT ON {', '.join([*sorted(RULES), *UNGOVERNED_TABLES])} FROM {ROLE}")
