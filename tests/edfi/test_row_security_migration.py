"""Migration rls_0002: it froze the authorization rules the application applies now, its
downgrade removes what it made (and only that), and a server where the migrating user may not take
the reader role keeps Ed-Fi RLS off while the application's filter still isolates clients."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.auth.access import OrgScope
from gateway.auth.row_security import EDFI_POLICIES, READER_ROLE, within_reach
from gateway.edfi.definitions import registry
from gateway.edfi.migration_gen import first_resources, later_resources
from gateway.edfi.security import rules, table_rules
from gateway.paths import ROOT
from tests.conftest import load_module, recreate_database

RLS_0002 = load_module(ROOT / "migrations" / "versions" / "rls_0002_edfi_row_security.py")
RLS_0003 = load_module(ROOT / "migrations" / "versions" / "rls_0003_all_resources_row_security.py")
RLS_0004 = load_module(ROOT / "migrations" / "versions" / "rls_0004_staff_employment.py")
RLS_0006 = load_module(ROOT / "migrations" / "versions" / "rls_0006_responsibility_reads.py")


def test_the_migrations_froze_the_rules_the_application_applies():
    """A change to schemas/edfi/authorization.json (or to a governed table) needs a revision
    that replaces these policies: the database would otherwise enforce the old rules. rls_0002
    governs edfi_0001's resources, rls_0003 the others (edfi_0005), rls_0004 replaced staff's."""
    first = {r.name for r in first_resources()}
    later = {r.name for r in later_resources()}
    # rls_0004 replaced the policies of staff and of what reaches organizations through them
    # rls_0006 those some claim set authorizes through responsibility
    frozen = {**RLS_0002.RULES, **RLS_0003.RULES, **RLS_0004.RULES, **RLS_0006.RULES}
    assert frozen == table_rules(registry())
    assert set(RLS_0002.RULES) == set(table_rules(registry(), first))
    assert RLS_0002.GOVERNED_RESOURCES == tuple(sorted(n for n in rules() if n in first))
    assert set(RLS_0003.RULES) == set(table_rules(registry(), later))
    assert RLS_0003.GOVERNED_RESOURCES == tuple(sorted(n for n in rules() if n in later))
    assert set(RLS_0003.UNGOVERNED_TABLES) == {
        registry().resources[n].table_name for n in later - set(rules())
    }


def test_every_resource_that_carries_a_securable_element_is_governed():
    """The derivation gives a rule to each resource whose records name an education organization
    or a person; those naming neither are catalogues (assessments' items, surveys' questions)."""
    elements = {"schoolId", "educationOrganizationId", "studentUniqueId", "staffUniqueId"}
    for res in registry().resources.values():
        if not res.descriptor and elements & set(res.identity):
            assert res.name in rules(), res.name
    students = rules()["students"]["via"]
    responsibility = rules()["studentAssessments"]["responsibility"]
    assert [hop["resource"] for chain in responsibility for hop in chain] == [
        "studentEducationOrganizationResponsibilityAssociations"
    ]
    # a record naming a school and a student reaches through both
    assert rules()["studentSchoolAttendanceEvents"] == {
        "edorg": "schoolId",
        "also": [{"via": students}],
        "responsibility": responsibility,
    }
    # ... unless it is what relates the student: the school alone
    assert rules()["studentSchoolAssociations"] == {"edorg": "schoolId"}
    # a student's assessment reaches what the student reaches
    assert rules()["studentAssessments"] == {"via": students, "responsibility": responsibility}
    # a discipline action: its student and its responsibility school (not its assignment school)
    assert rules()["disciplineActions"]["also"] == [{"edorg": "responsibilitySchoolId"}]


def test_the_reader_may_read_every_served_table():
    tables = {res.table.name for res in registry().resources.values()}
    readable = {*RLS_0002.READ_TABLES, *RLS_0003.RULES, *RLS_0003.UNGOVERNED_TABLES}
    assert tables <= readable


_STATE = """
SELECT (SELECT count(*) FROM pg_policies WHERE policyname = 'edorg_reach'),
       (SELECT count(*) FROM pg_class WHERE relrowsecurity AND relname = ANY(:tables)),
       to_regprocedure('gateway_request_edorg_ids()') IS NOT NULL,
       has_table_privilege(:role, 'students', 'SELECT'),
       (SELECT count(*) FROM pg_policies WHERE policyname = 'reach')
"""


def _state(engine) -> tuple:
    tables = sorted(RLS_0002.policies())
    with engine.connect() as connection:
        return tuple(
            connection.execute(text(_STATE), {"role": READER_ROLE, "tables": tables}).one()
        )


def test_downgrade_removes_the_edfi_policies_only_and_upgrade_restores_them(
    pg_server_url, database_url
):
    url = recreate_database(pg_server_url, "gateway_rls_edfi_migration_test")
    engine = create_engine(url)
    policies = len(RLS_0002.RULES) + 1 + len(RLS_0003.RULES)
    full = (policies, len(RLS_0002.RULES) + 1, True, True, 8)
    try:
        migrate.upgrade(url)
        assert _state(engine) == full
        migrate.downgrade(url, to="oneroster_0004")
        assert _state(engine) == (0, 0, False, False, 8)  # rls_0001's stay
        migrate.upgrade(url)
        assert _state(engine) == full
    finally:
        engine.dispose()


def test_without_the_role_edfi_reads_stay_as_before(plain_owner_url, caplog):
    with caplog.at_level(logging.WARNING):
        migrate.upgrade(plain_owner_url)
    assert "row-level security left off for Ed-Fi reads" in caplog.text
    engine = create_engine(plain_owner_url)
    try:
        assert _state(engine)[:3] == (0, 0, False)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO local_education_agencies (id, local_education_agency_id, "
                    "name_of_institution) VALUES (gen_random_uuid(), 1, 'One'), "
                    "(gen_random_uuid(), 2, 'Two')"
                )
            )
        scope = OrgScope(False, frozenset({1}), frozenset())
        with Session(engine) as session, within_reach(session, scope, EDFI_POLICIES) as limited:
            count = session.scalar(text("SELECT count(*) FROM local_education_agencies"))
        # No role to take: the read runs as the connection's user, and the application's filter
        # (absent from this raw statement) is what limits a client here.
        assert (limited, count) == (False, 2)
        assert "row-level security is off for schools" in caplog.text
    finally:
        engine.dispose()


def test_the_inverted_tables_are_those_a_claim_set_reads_inverted():
    """rls_0005 lets reads reach up on the tables of the resources some claim set reads with an
    …Inverted strategy; a change to the security metadata needs a revision."""
    from gateway.edfi import claim_sets
    from gateway.edfi.security import inverted

    rls_0005 = load_module(ROOT / "migrations" / "versions" / "rls_0005_inverted_reads.py")
    names = {
        res.name
        for res in registry().resources.values()
        for claim_set in claim_sets.claim_sets()
        for action in ("Read", "ReadChanges")
        if inverted(claim_sets.strategies(claim_set, res, action) or ())
    }
    assert rls_0005.INVERTED_TABLES == {
        table: rule["edorg"] for table, rule in table_rules(registry(), names).items()
    }
