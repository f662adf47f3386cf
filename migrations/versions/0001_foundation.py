"""Foundation: the core data model's tables and the auth tables.

Tables and indexes follow ../shared/design/core-data-model.md. Deviations, each for a reason:
- timestamps are `timestamptz` (Ed-Fi and OneRoster both exchange UTC instants);
- `schools.title_i_part_a_school_designation_descriptor` is listed twice in the model: created once;
- `students.student_usi` is server-assigned in Ed-Fi, so it is an identity column.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _edfi_meta() -> list[sa.Column]:
    return [
        sa.Column("_etag", sa.String(50)),
        sa.Column("_last_modified_date", TS, server_default=_now()),
        sa.Column("created_at", TS, server_default=_now()),
        sa.Column("updated_at", TS, server_default=_now()),
    ]


def _jsonb_list(name: str) -> sa.Column:
    return sa.Column(name, JSONB, server_default=sa.text("'[]'::jsonb"))


def upgrade() -> None:
    # ---------------------------------------------------------------- academic (Ed-Fi)
    op.create_table(
        "schools",
        sa.Column("school_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("state_organization_id", sa.String(60), nullable=False),
        sa.Column("name_of_institution", sa.String(255), nullable=False),
        sa.Column("short_name_of_institution", sa.String(100)),
        sa.Column("web_site", sa.String(255)),
        sa.Column("operational_status_descriptor", sa.String(50)),
        sa.Column("type_descriptor", sa.String(50)),
        sa.Column("charter_status_descriptor", sa.String(50)),
        sa.Column("title_i_part_a_school_designation_descriptor", sa.String(50)),
        sa.Column("magnet_special_program_emphasis_school_descriptor", sa.String(50)),
        sa.Column("administrative_funding_control_descriptor", sa.String(50)),
        sa.Column("local_education_agency_id", sa.Integer),
        _jsonb_list("addresses"),
        _jsonb_list("telephones"),
        _jsonb_list("school_categories"),
        _jsonb_list("grade_levels"),
        _jsonb_list("institution_telephones"),
        sa.Column("internet_access_descriptor", sa.String(50)),
        *_edfi_meta(),
    )
    op.create_index("idx_schools_lea", "schools", ["local_education_agency_id"])
    op.create_index("idx_schools_state_org", "schools", ["state_organization_id"])
    op.create_index("idx_schools_operational_status", "schools", ["operational_status_descriptor"])
    op.create_index("idx_schools_type", "schools", ["type_descriptor"])

    op.create_table(
        "students",
        sa.Column("student_unique_id", sa.String(50), primary_key=True),
        sa.Column(
            "student_usi", sa.Integer, sa.Identity(always=False), unique=True, nullable=False
        ),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("middle_name", sa.String(100)),
        sa.Column("generation_code_suffix", sa.String(10)),
        sa.Column("maiden_name", sa.String(100)),
        sa.Column("birth_date", sa.Date),
        sa.Column("birth_city", sa.String(100)),
        sa.Column("birth_state_abbreviation_descriptor", sa.String(50)),
        sa.Column("birth_country_descriptor", sa.String(50)),
        sa.Column("date_entered_us", sa.Date),
        sa.Column("multiplebirth_status", sa.Boolean),
        sa.Column("birth_sex_descriptor", sa.String(50)),
        sa.Column("hispanic_latino_ethnicity", sa.Boolean),
        _jsonb_list("races"),
        sa.Column("person_id", sa.String(50)),
        sa.Column("source_system_descriptor", sa.String(50)),
        *_edfi_meta(),
    )
    op.create_index("idx_students_person", "students", ["person_id"])
    op.create_index("idx_students_birth_date", "students", ["birth_date"])
    op.create_index("idx_students_ethnicity", "students", ["hispanic_latino_ethnicity"])

    op.create_table(
        "student_school_associations",
        sa.Column("student_unique_id", sa.String(50), nullable=False),
        sa.Column("school_id", sa.Integer, nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("entry_grade_level_descriptor", sa.String(50)),
        sa.Column("entry_grade_level_reason_descriptor", sa.String(50)),
        sa.Column("entry_type_descriptor", sa.String(50)),
        sa.Column("repeat_grade_indicator", sa.Boolean),
        sa.Column("school_choice_transfer", sa.Boolean),
        sa.Column("exit_withdraw_date", sa.Date),
        sa.Column("exit_withdraw_type_descriptor", sa.String(50)),
        sa.Column("primary_school", sa.Boolean, server_default=sa.true()),
        sa.Column("class_of_school_year", sa.Integer),
        sa.Column("school_year", sa.Integer, nullable=False),
        sa.Column("graduation_plan_type_descriptor", sa.String(50)),
        sa.Column("graduation_school_year", sa.Integer),
        sa.Column("calendar_code", sa.String(50)),
        sa.Column("school_choice_basis_descriptor", sa.String(50)),
        *_edfi_meta(),
        sa.PrimaryKeyConstraint("student_unique_id", "school_id", "entry_date"),
        sa.ForeignKeyConstraint(["student_unique_id"], ["students.student_unique_id"]),
        sa.ForeignKeyConstraint(["school_id"], ["schools.school_id"]),
    )
    op.create_index(
        "idx_student_school_student", "student_school_associations", ["student_unique_id"]
    )
    op.create_index("idx_student_school_school", "student_school_associations", ["school_id"])
    op.create_index("idx_student_school_year", "student_school_associations", ["school_year"])
    op.create_index(
        "idx_student_school_grade",
        "student_school_associations",
        ["entry_grade_level_descriptor"],
    )
    op.create_index(
        "idx_student_school_active",
        "student_school_associations",
        ["school_id", "school_year"],
        postgresql_where=sa.text("exit_withdraw_date IS NULL"),
    )

    # ---------------------------------------------------------------- enrollment (OneRoster)
    op.create_table(
        "organizations",
        sa.Column("sourced_id", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(20), server_default="active"),
        sa.Column("date_last_modified", TS, server_default=_now()),
        sa.Column("metadata", JSONB),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("identifier", sa.String(255)),
        sa.Column("parent_id", sa.String(255), sa.ForeignKey("organizations.sourced_id")),
    )
    op.create_table(
        "users",
        sa.Column("sourced_id", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(20), server_default="active"),
        sa.Column("date_last_modified", TS, server_default=_now()),
        sa.Column("metadata", JSONB),
        sa.Column("username", sa.String(255), unique=True),
        sa.Column("user_ids", JSONB),
        sa.Column("enabled_user", sa.Boolean, server_default=sa.true()),
        sa.Column("given_name", sa.String(255)),
        sa.Column("family_name", sa.String(255)),
        sa.Column("middle_name", sa.String(255)),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("identifier", sa.String(255)),
        sa.Column("email", sa.String(255)),
        sa.Column("sms", sa.String(20)),
        sa.Column("phone", sa.String(20)),
        sa.Column("birth_date", sa.Date),
        sa.Column("agents", JSONB),
        sa.Column("org_ids", JSONB),
        sa.Column("grades", JSONB),
        sa.Column("password", sa.String(255)),
        sa.Column("created_at", TS, server_default=_now()),
        sa.Column("updated_at", TS, server_default=_now()),
    )
    op.execute("CREATE INDEX idx_users_role_org ON users (role, (org_ids->>0))")
    op.create_index("idx_users_email", "users", ["email"])
    op.create_index("idx_users_status", "users", ["status"])

    # ---------------------------------------------------------------- auth
    op.create_table(
        "api_clients",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("secret_salt", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("education_organization_ids", JSONB, nullable=False),
        sa.Column("namespace_prefix", sa.String(255)),
        sa.Column("scopes", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "client_id",
            sa.BigInteger,
            sa.ForeignKey("api_clients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("scopes", JSONB, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_index("ix_access_tokens_client_id", "access_tokens", ["client_id"])
    op.create_index("ix_access_tokens_expires_at", "access_tokens", ["expires_at"])
    op.create_table(
        "oauth1_nonces",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("consumer_key", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("consumer_key", "nonce", "timestamp"),
    )
    op.create_index("ix_oauth1_nonces_created_at", "oauth1_nonces", ["created_at"])


def downgrade() -> None:
    op.drop_table("oauth1_nonces")
    op.drop_table("access_tokens")
    op.drop_table("api_clients")
    op.drop_table("users")
    op.drop_table("organizations")
    op.drop_table("student_school_associations")
    op.drop_table("students")
    op.drop_table("schools")
