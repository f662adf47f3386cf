"""OneRoster v1.1 enrollment tables, and the indexes its REST filters and nested paths use.

Revision ID: oneroster_0001
Revises: 0001
"""

from alembic import op

revision = "oneroster_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

# Columns every OneRoster entity carries. `origin` tells the mapping layer where a row came from,
# so a projection never echoes back into its source.
_COMMON = """
    sourced_id varchar(255) PRIMARY KEY,
    status varchar(20) NOT NULL DEFAULT 'active',
    date_last_modified timestamptz NOT NULL DEFAULT now(),
    metadata jsonb,
    origin varchar(20) NOT NULL DEFAULT 'oneroster-rest'
"""

# GUIDRefs are stored as sourcedId columns; list fields as JSONB arrays so that a GIN index answers
# "any element" filters (@>) and org-reach overlaps (?|). No foreign keys: CSV bulk loads and the
# mapping layer write in any order; services validate references.
_TABLES = {
    "academic_sessions": """
        title varchar(255) NOT NULL,
        type varchar(20) NOT NULL,
        start_date date,
        end_date date,
        parent_sourced_id varchar(255),
        school_year varchar(4)
    """,
    "oneroster_courses": """
        title varchar(255) NOT NULL,
        school_year_sourced_id varchar(255),
        course_code varchar(255),
        grades jsonb NOT NULL DEFAULT '[]',
        subjects jsonb NOT NULL DEFAULT '[]',
        org_sourced_id varchar(255),
        subject_codes jsonb NOT NULL DEFAULT '[]'
    """,
    "classes": """
        title varchar(255) NOT NULL,
        class_code varchar(255),
        class_type varchar(20),
        location varchar(255),
        grades jsonb NOT NULL DEFAULT '[]',
        subjects jsonb NOT NULL DEFAULT '[]',
        course_sourced_id varchar(255),
        school_sourced_id varchar(255) NOT NULL,
        term_sourced_ids jsonb NOT NULL DEFAULT '[]',
        subject_codes jsonb NOT NULL DEFAULT '[]',
        periods jsonb NOT NULL DEFAULT '[]'
    """,
    "enrollments": """
        user_sourced_id varchar(255) NOT NULL,
        class_sourced_id varchar(255) NOT NULL,
        school_sourced_id varchar(255) NOT NULL,
        role varchar(20) NOT NULL,
        "primary" boolean,
        begin_date date,
        end_date date
    """,
    "demographics": """
        birth_date date,
        sex varchar(20),
        american_indian_or_alaska_native boolean,
        asian boolean,
        black_or_african_american boolean,
        native_hawaiian_or_other_pacific_islander boolean,
        white boolean,
        demographic_race_two_or_more_races boolean,
        hispanic_or_latino_ethnicity boolean,
        country_of_birth_code varchar(10),
        state_of_birth_abbreviation varchar(10),
        city_of_birth varchar(255),
        public_school_residence_status varchar(255)
    """,
    "categories": """
        title varchar(255) NOT NULL
    """,
    "line_items": """
        title varchar(255) NOT NULL,
        description text,
        assign_date date,
        due_date date,
        class_sourced_id varchar(255) NOT NULL,
        category_sourced_id varchar(255),
        grading_period_sourced_id varchar(255),
        result_value_min double precision,
        result_value_max double precision
    """,
    "results": """
        line_item_sourced_id varchar(255) NOT NULL,
        student_sourced_id varchar(255) NOT NULL,
        score_status varchar(30) NOT NULL,
        score double precision,
        score_date date,
        comment text
    """,
    "resources": """
        title varchar(255),
        roles jsonb NOT NULL DEFAULT '[]',
        importance varchar(20),
        vendor_resource_id varchar(255) NOT NULL,
        vendor_id varchar(255),
        application_id varchar(255)
    """,
    "class_resources": """
        title varchar(255),
        class_sourced_id varchar(255) NOT NULL,
        resource_sourced_id varchar(255) NOT NULL
    """,
    "course_resources": """
        title varchar(255),
        course_sourced_id varchar(255) NOT NULL,
        resource_sourced_id varchar(255) NOT NULL
    """,
}

# (table, index name suffix, definition). Every table also gets status and date_last_modified
# indexes (delta syncs filter on dateLastModified); the rest serve nested paths and common filters.
_INDEXES = [
    ("academic_sessions", "type", "(type, sourced_id)"),
    ("academic_sessions", "parent", "(parent_sourced_id)"),
    ("academic_sessions", "school_year", "(school_year)"),
    ("oneroster_courses", "org", "(org_sourced_id)"),
    ("oneroster_courses", "school_year", "(school_year_sourced_id)"),
    ("oneroster_courses", "course_code", "(course_code)"),
    ("oneroster_courses", "grades", "USING gin (grades)"),
    ("classes", "school", "(school_sourced_id)"),
    ("classes", "course", "(course_sourced_id)"),
    ("classes", "terms", "USING gin (term_sourced_ids)"),
    ("classes", "grades", "USING gin (grades)"),
    ("classes", "class_code", "(class_code)"),
    ("enrollments", "class_role_user", "(class_sourced_id, role, user_sourced_id)"),
    ("enrollments", "user_class", "(user_sourced_id, class_sourced_id)"),
    ("enrollments", "school", "(school_sourced_id)"),
    ("enrollments", "role", "(role)"),
    ("line_items", "class", "(class_sourced_id)"),
    ("line_items", "category", "(category_sourced_id)"),
    ("line_items", "grading_period", "(grading_period_sourced_id)"),
    ("results", "line_item", "(line_item_sourced_id)"),
    ("results", "student", "(student_sourced_id)"),
    ("resources", "vendor_resource", "(vendor_resource_id)"),
    ("class_resources", "class", "(class_sourced_id, resource_sourced_id)"),
    ("class_resources", "resource", "(resource_sourced_id)"),
    ("course_resources", "course", "(course_sourced_id, resource_sourced_id)"),
    ("course_resources", "resource", "(resource_sourced_id)"),
    ("organizations", "type", "(type, sourced_id)"),
    ("organizations", "parent", "(parent_id)"),
    ("organizations", "identifier", "(identifier)"),
    ("users", "role_sourced", "(role, sourced_id)"),
    ("users", "org_ids", "USING gin (org_ids)"),
    ("users", "grades", "USING gin (grades)"),
    ("users", "identifier", "(identifier)"),
]

_CORE = ("organizations", "users")


def _column_type(table: str, column: str) -> str | None:
    row = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %(t)s AND column_name = %(c)s",
            {"t": table, "c": column},
        )
        .first()
    )
    return row[0] if row else None


def upgrade() -> None:
    for table, columns in _TABLES.items():
        op.execute(f"CREATE TABLE {table} ({_COMMON}, {columns})")

    # The core tables keep their columns; OneRoster needs an origin, UTC timestamps and JSONB lists.
    for table in _CORE:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS origin varchar(20) "
            "NOT NULL DEFAULT 'oneroster-rest'"
        )
        if _column_type(table, "date_last_modified") == "timestamp without time zone":
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN date_last_modified TYPE timestamptz "
                "USING date_last_modified AT TIME ZONE 'UTC'"
            )
        op.execute(
            f"UPDATE {table} SET date_last_modified = now() WHERE date_last_modified IS NULL"
        )
        op.execute(f"ALTER TABLE {table} ALTER COLUMN date_last_modified SET DEFAULT now()")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN date_last_modified SET NOT NULL")
        op.execute(f"UPDATE {table} SET status = 'active' WHERE status IS NULL")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN status SET NOT NULL")
    for column in ("org_ids", "grades", "agents", "user_ids"):
        if _column_type("users", column) == "json":
            op.execute(f"ALTER TABLE users ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb")

    for table in (*_TABLES, *_CORE):
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_status ON {table} (status)")
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_{table}_date_last_modified "
            f"ON {table} (date_last_modified, sourced_id)"
        )
    for table, suffix, definition in _INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_{suffix} ON {table} {definition}")


def downgrade() -> None:
    for table, suffix, _definition in _INDEXES:
        if table in _CORE:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_{suffix}")
    for table in _CORE:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_status")
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_date_last_modified")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS origin")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN status DROP NOT NULL")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN date_last_modified DROP NOT NULL")
    for table in reversed(list(_TABLES)):
        op.execute(f"DROP TABLE IF EXISTS {table}")
