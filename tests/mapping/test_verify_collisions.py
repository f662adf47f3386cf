"""`gateway mapping verify` on a database that already holds an org sharing its id with an education
organization of another kind (written before the import refused it, issue 14): reported, no crash,
and the projection never creates the duplicate Ed-Fi organization."""

from __future__ import annotations

from sqlalchemy import text

from gateway.mapping import verify
from gateway.mapping.to_edfi.bulk import project_import
from tests.edfi import conftest as edfi_suite

descriptors_loaded = edfi_suite.descriptors_loaded
edfi = edfi_suite.edfi
district = edfi_suite.district


def _plant(db_session, sourced_id: str, identifier: str, parent_identifier: str, kind="school"):
    """An org as an earlier release let a CSV import write it."""
    db_session.execute(
        text(
            "INSERT INTO organizations (sourced_id, status, name, type, identifier, parent_id, "
            "origin) SELECT :sid, 'active', 'Evil', :kind, :ident, sourced_id, 'oneroster-csv' "
            "FROM organizations WHERE identifier = :parent"
        ),
        {"sid": sourced_id, "kind": kind, "ident": identifier, "parent": parent_identifier},
    )


def test_verify_reports_an_org_holding_another_kinds_id(app, db_session, edfi, district):
    district()
    _plant(db_session, "evil-org", "255901", "255902")
    _plant(db_session, "evil-dept", "255901001", "255902", kind="department")
    lea_org, school_org = (
        db_session.execute(
            text("SELECT sourced_id FROM organizations WHERE identifier = :i AND origin = 'edfi'"),
            {"i": i},
        ).scalar_one()
        for i in ("255901", "255901001")
    )
    with app.app_context():
        project_import(db_session, {"org": ["evil-org", "evil-dept"]})
        drift = verify.check(db_session)
    assert sorted(drift.collisions) == sorted(
        [
            "org evil-dept: identifier 255901001 is already the id of schools 255901001",
            f"org evil-dept: identifier 255901001 is already the id of org {school_org}",
            f"org {school_org}: identifier 255901001 is already the id of org evil-dept",
            "org evil-org: identifier 255901 is already the id of localEducationAgencies 255901",
            f"org evil-org: identifier 255901 is already the id of org {lea_org}",
            f"org {lea_org}: identifier 255901 is already the id of org evil-org",
        ]
    )
    assert not drift.clean
    assert set(drift.collisions) <= set(drift.lines())
    # the projection did not create a school 255901 beside LEA 255901
    assert edfi.get("schools?schoolId=255901").get_json() == []


def test_verify_command_reports_instead_of_a_traceback(database_url, owner_url, app, engine, edfi):
    """Against a committed database, as an operator runs it."""
    from click.testing import CliRunner

    from gateway.cli import cli
    from tests.conftest import TEST_SECRET_KEY

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organizations (sourced_id, status, name, type, identifier, origin) "
                "VALUES ('evil-x', 'active', 'Evil', 'district', '9999', 'oneroster-csv'), "
                "('evil-y', 'active', 'Evil', 'school', '9999', 'oneroster-csv')"
            )
        )
    try:
        env = {
            "DATABASE_URL": database_url,
            "MIGRATION_DATABASE_URL": owner_url,  # an operator command: the owner's credentials
            "SECRET_KEY": TEST_SECRET_KEY,
        }
        result = CliRunner().invoke(cli, ["mapping", "verify"], env=env)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM organizations WHERE sourced_id LIKE 'evil-_'"))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "org evil-x: identifier 9999 is already the id of org evil-y" in result.output
    assert "org evil-y: identifier 9999 is already the id of org evil-x" in result.output
    assert result.output.strip().endswith("drift found")
