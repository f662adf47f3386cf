"""mapping_links: natural_key stored only for links without an Ed-Fi row; one full unique index
of the Ed-Fi ids.

A link's natural key is read only while its Ed-Fi record is gone (edfi_id NULL: the same record
created again gets its sourcedId back) or never existed (a derived record: a school year). A live
link is found by its row's id. Building a JSON key for each of a district's 500,000 enrollment
links cost a CSV import about 1.5 s for values nobody read, so live links are now written without
one; the paths that delete a linked row store it then. Existing keys are kept.

The downgrade rebuilds the keys of live links from their Ed-Fi rows (the resources links point
at, fixed here so this revision never changes).

Revision ID: mapping_0003
Revises: oneroster_0003
"""

from alembic import op

revision = "mapping_0003"
down_revision = "oneroster_0003"
branch_labels = None
depends_on = None

# link resource → (table, ((key field, column) …)) for the Ed-Fi resources links point at
LINKED_TABLES = {
    "students": ("students", (("studentUniqueId", "student_unique_id"),)),
    "staffs": ("staffs", (("staffUniqueId", "staff_unique_id"),)),
    "contacts": ("contacts", (("contactUniqueId", "contact_unique_id"),)),
    "sessions": (
        "sessions",
        (("sessionName", "session_name"), ("schoolId", "school_id"), ("schoolYear", "school_year")),
    ),
    "courses": (
        "courses",
        (("courseCode", "course_code"), ("educationOrganizationId", "education_organization_id")),
    ),
    "sections": (
        "sections",
        (
            ("sectionIdentifier", "section_identifier"),
            ("localCourseCode", "local_course_code"),
            ("schoolId", "school_id"),
            ("schoolYear", "school_year"),
            ("sessionName", "session_name"),
        ),
    ),
    "gradebookEntries": (
        "gradebook_entries",
        (("gradebookEntryIdentifier", "gradebook_entry_identifier"), ("namespace", "namespace")),
    ),
    "studentGradebookEntries": (
        "student_gradebook_entries",
        (
            ("gradebookEntryIdentifier", "gradebook_entry_identifier"),
            ("namespace", "namespace"),
            ("studentUniqueId", "student_unique_id"),
        ),
    ),
}
SECTION_KEY = (
    ("beginDate", "begin_date"),
    ("localCourseCode", "local_course_code"),
    ("schoolId", "school_id"),
    ("schoolYear", "school_year"),
    ("sectionIdentifier", "section_identifier"),
    ("sessionName", "session_name"),
)
LINKED_TABLES["studentSectionAssociations"] = (
    "student_section_associations",
    (*SECTION_KEY, ("studentUniqueId", "student_unique_id")),
)
LINKED_TABLES["staffSectionAssociations"] = (
    "staff_section_associations",
    (*SECTION_KEY, ("staffUniqueId", "staff_unique_id")),
)
# an org's link is keyed by educationOrganizationId whichever table holds it
EDUCATION_ORGANIZATIONS = (
    ("local_education_agencies", "local_education_agency_id"),
    ("schools", "school_id"),
)


def upgrade() -> None:
    op.execute("ALTER TABLE mapping_links ALTER COLUMN natural_key DROP NOT NULL")
    # One link per Ed-Fi row, over every link: NULL edfi_ids (orphans) never collide in a unique
    # index, so the predicate `edfi_id IS NOT NULL` excluded nothing that mattered, but it made
    # the index partial, and a bulk load keeps partial indexes (gateway.bulkload): a district's
    # 500,000 enrollment links went into it one random id at a time (2.2 s) where a rebuild
    # after the rows sorts them once.
    op.execute("DROP INDEX ux_mapping_links_edfi_id")
    op.execute(
        "CREATE UNIQUE INDEX ux_mapping_links_edfi_id ON mapping_links (edfi_resource, edfi_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ux_mapping_links_edfi_id")
    op.execute(
        "CREATE UNIQUE INDEX ux_mapping_links_edfi_id ON mapping_links (edfi_resource, edfi_id) "
        "WHERE edfi_id IS NOT NULL"
    )
    for resource, (table, fields) in LINKED_TABLES.items():
        key = ", ".join(f"'{field}', t.{column}" for field, column in fields)
        op.execute(
            f"UPDATE mapping_links l SET natural_key = jsonb_build_object({key}) FROM {table} t "
            f"WHERE l.natural_key IS NULL AND l.edfi_resource = '{resource}' AND t.id = l.edfi_id"
        )
    for table, column in EDUCATION_ORGANIZATIONS:
        op.execute(
            "UPDATE mapping_links l SET natural_key = "
            f"jsonb_build_object('educationOrganizationId', t.{column}) FROM {table} t "
            "WHERE l.natural_key IS NULL AND l.edfi_resource = 'educationOrganizations' "
            "AND t.id = l.edfi_id"
        )
    # a live link whose row is gone without a delete path seeing it: its key was never read (a
    # live link is found by id), and the previous revision needs some value
    op.execute("UPDATE mapping_links SET natural_key = '{}'::jsonb WHERE natural_key IS NULL")
    op.execute("ALTER TABLE mapping_links ALTER COLUMN natural_key SET NOT NULL")
