"""Tombstone retention (compliance rule 4): `gateway purge` removes only expired tombstones,
shows what it removes, and leaves an audit row."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.audit import AuditRecord
from gateway.cli import cli
from gateway.db import utcnow
from gateway.edfi.definitions import tracked_changes
from gateway.mapping.links import mapping_links
from gateway.oneroster.models import Organization, User
from gateway.retention import purge_tombstones
from tests.conftest import TEST_SECRET_KEY

ONEROSTER = "/ims/oneroster/v1p1"
DELETES = "/data/v3/ed-fi/students/deletes"
OLD = utcnow() - dt.timedelta(days=400)
RECENT = utcnow() - dt.timedelta(days=3)

# purge is an operator command: it runs with the owner's credentials (MIGRATION_DATABASE_URL)
pytestmark = pytest.mark.as_owner


def user(sourced_id: str, status: str, modified: dt.datetime) -> User:
    return User(
        sourced_id=sourced_id,
        status=status,
        date_last_modified=modified,
        role="student",
        given_name="Ruth",
        family_name="Levi",
        org_ids=[],
        agents=[],
    )


def tombstone(session, modified: dt.datetime) -> uuid.UUID:
    row_id = uuid.uuid4()
    session.execute(
        sa.insert(tracked_changes).values(
            change_version=sa.func.nextval("change_version_seq"),
            resource="students",
            kind="delete",
            id=row_id,
            old_key_values={"studentUniqueId": str(row_id)[:8]},
            edorg_ids=[],
            created_at=modified,
        )
    )
    return row_id


@pytest.fixture
def tombstones(db_session):
    db_session.add_all(
        [
            user("ret-old-gone", "tobedeleted", OLD),
            user("ret-recent-gone", "tobedeleted", RECENT),
            user("ret-old-active", "active", OLD),
            Organization(
                sourced_id="ret-old-org",
                status="tobedeleted",
                date_last_modified=OLD,
                name="Closed school",
                type="school",
            ),
        ]
    )
    db_session.execute(
        sa.insert(mapping_links),
        [
            {
                "sourced_id": "ret-old-gone",
                "edfi_resource": "students",
                "natural_key": {},
                "edfi_id": None,
            },
            {
                "sourced_id": "ret-old-org",
                "edfi_resource": "educationOrganizations",
                "natural_key": {"educationOrganizationId": 9},
                "edfi_id": uuid.uuid4(),
            },
        ],
    )
    ids = {"old": tombstone(db_session, OLD), "recent": tombstone(db_session, RECENT)}
    db_session.flush()
    return ids


def test_purge_removes_expired_tombstones_only(db_session, client, auth_headers, tombstones):
    headers = auth_headers()
    assert client.get(f"{ONEROSTER}/users/ret-old-gone", headers=headers).status_code == 200

    report = purge_tombstones(db_session, dt.timedelta(days=365))

    assert report.counts["users"] == 1 and report.counts["organizations"] == 1
    assert report.counts["edfi_tracked_changes"] == 1
    assert client.get(f"{ONEROSTER}/users/ret-old-gone", headers=headers).status_code == 404
    for kept in ("ret-recent-gone", "ret-old-active"):
        assert client.get(f"{ONEROSTER}/users/{kept}", headers=headers).status_code == 200
    deleted = {d["id"] for d in client.get(DELETES, headers=headers).get_json()}
    assert str(tombstones["recent"]) in deleted and str(tombstones["old"]) not in deleted
    # the link of a record gone from both sides goes; one whose Ed-Fi record remains stays
    links = set(db_session.scalars(sa.select(mapping_links.c.sourced_id)))
    assert "ret-old-gone" not in links and "ret-old-org" in links
    audit = db_session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "purge")).one()
    assert set(audit.record_ids) == {"ret-old-gone", "ret-old-org"}
    assert "users=1" in audit.query and "older_than_days=365" in audit.query


def test_dry_run_counts_and_changes_nothing(db_session, tombstones):
    report = purge_tombstones(db_session, dt.timedelta(days=365), dry_run=True)
    assert report.counts["users"] == 1 and report.counts["edfi_tracked_changes"] == 1
    assert db_session.get(User, "ret-old-gone") is not None
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).select_from(AuditRecord).where(AuditRecord.action == "purge")
        )
        == 0
    )


def test_a_non_positive_period_is_refused(db_session):
    with pytest.raises(ValueError):
        purge_tombstones(db_session, dt.timedelta(0))


@pytest.fixture
def committed_tombstone(engine):
    with engine.begin() as conn:
        conn.execute(sa.delete(User.__table__).where(User.sourced_id == "ret-cli-gone"))
        conn.execute(
            sa.insert(User.__table__).values(
                sourced_id="ret-cli-gone",
                status="tobedeleted",
                date_last_modified=OLD,
                role="teacher",
                org_ids=[],
                agents=[],
            )
        )
    yield
    with engine.begin() as conn:
        conn.execute(sa.delete(User.__table__).where(User.sourced_id == "ret-cli-gone"))


def test_cli_purge_dry_run_then_purge(database_url, owner_url, owner_engine, committed_tombstone):
    env = {
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": owner_url,
        "SECRET_KEY": TEST_SECRET_KEY,
    }
    runner = CliRunner()

    dry = runner.invoke(cli, ["purge", "--older-than", "30", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would purge" in dry.output and "users" in dry.output
    with owner_engine.connect() as conn:
        assert conn.scalar(sa.select(User.sourced_id).where(User.sourced_id == "ret-cli-gone"))

    done = runner.invoke(cli, ["purge", "--older-than", "30"], env=env)
    assert done.exit_code == 0, done.output
    assert "purged" in done.output
    with owner_engine.connect() as conn:
        assert (
            conn.scalar(sa.select(User.sourced_id).where(User.sourced_id == "ret-cli-gone")) is None
        )
        ids = conn.scalars(
            sa.select(AuditRecord.record_ids).where(AuditRecord.action == "purge")
        ).all()
    assert any("ret-cli-gone" in (json.loads(i) if isinstance(i, str) else i) for i in ids)


def test_cli_purge_without_a_period_says_how_to_give_one(database_url, owner_url):
    env = {
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": owner_url,
        "SECRET_KEY": TEST_SECRET_KEY,
    }
    result = CliRunner().invoke(cli, ["purge"], env=env)
    assert result.exit_code != 0
    assert "TOMBSTONE_RETENTION_DAYS" in str(result.exception or result.output)
