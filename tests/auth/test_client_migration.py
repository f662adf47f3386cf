"""Migration edfi_clients_0001: clients made before claim sets keep what they could do."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from gateway import migrate
from tests.conftest import recreate_database

OLD_CLIENT = text(
    """
    INSERT INTO api_clients (key, name, secret_salt, secret_hash, education_organization_ids,
                             namespace_prefix, scopes, active, created_at)
    VALUES (:key, :key, 's', 'h', CAST(:edorgs AS jsonb), :namespace, '[]', true, now())
    """
)


def test_existing_clients_keep_their_reach_namespace_and_rules(pg_server_url):
    url = recreate_database(pg_server_url, "gateway_client_migration_test")
    engine = create_engine(url)
    try:
        migrate.downgrade(url, to="base")
        from alembic import command

        from gateway.migrate import alembic_config

        command.upgrade(alembic_config(url), "rls_0002")
        with engine.begin() as conn:
            conn.execute(OLD_CLIENT, {"key": "district", "edorgs": "[]", "namespace": None})
            conn.execute(
                OLD_CLIENT, {"key": "lea", "edorgs": '["255901"]', "namespace": "uri://lea.org"}
            )
        command.upgrade(alembic_config(url), "edfi_clients_0001")
        with engine.connect() as conn:
            rows = {
                r.key: r
                for r in conn.execute(
                    text(
                        "SELECT key, all_organizations, education_organization_ids, "
                        "namespace_prefixes, claim_set, approved FROM api_clients"
                    )
                )
            }
        # an empty list meant every organization: now the explicit flag says so
        assert rows["district"].all_organizations is True
        assert rows["district"].namespace_prefixes == []
        assert rows["lea"].all_organizations is False
        assert rows["lea"].education_organization_ids == ["255901"]
        assert rows["lea"].namespace_prefixes == ["uri://lea.org"]
        # the claim set that authorizes as the gateway did before claim sets
        assert {r.claim_set for r in rows.values()} == {"Gateway Legacy"}
        assert all(r.approved for r in rows.values())

        # a client made afterwards that reaches none does not come out of a downgrade reaching all
        with engine.begin() as conn:
            conn.execute(OLD_CLIENT, {"key": "none", "edorgs": "[]", "namespace": None})
        command.downgrade(alembic_config(url), "rls_0002")
        with engine.connect() as conn:
            active = dict(conn.execute(text("SELECT key, active FROM api_clients")).all())
        assert active == {"district": True, "lea": True, "none": False}
    finally:
        engine.dispose()
