"""No standing full-access credential: the demo client exists only on the embedded demo database,
stays revoked once revoked, and its secret reaches the terminal, never a log."""

from __future__ import annotations

import logging
import stat

from sqlalchemy import func, select, text

from gateway import serving
from gateway.auth.clients import revoke_client
from gateway.auth.models import ApiClient
from gateway.cli import DEMO_CLIENT_NAME


def _demo_clients(session) -> int:
    return session.scalar(
        select(func.count()).select_from(ApiClient).where(ApiClient.name == DEMO_CLIENT_NAME)
    )


def test_with_database_url_no_demo_client_is_created(
    test_config, owner_url, database_url, owner_engine
):
    config = type(test_config)(database_url, test_config.DYNAMODB_ENDPOINT_URL)
    config.MIGRATION_DATABASE_URL = owner_url
    assert serving.bootstrap(config, demo=False) is None
    with owner_engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM api_clients WHERE name = :n"), {"n": DEMO_CLIENT_NAME}
        ).scalar()
    assert found == 0


def test_the_demo_client_is_made_once_and_a_revoked_one_stays_revoked(app, db_session, caplog):
    with app.app_context(), caplog.at_level(logging.DEBUG):
        key, secret = serving.ensure_demo_client(db_session)
        assert serving.ensure_demo_client(db_session) == (key, secret)  # re-derived on restart
        assert revoke_client(db_session, key)
        db_session.flush()
        assert serving.ensure_demo_client(db_session) is None
        assert _demo_clients(db_session) == 1
        active = db_session.scalar(select(ApiClient.active).where(ApiClient.key == key))
    assert active is False
    assert secret not in caplog.text


def test_the_secret_goes_to_the_terminal_or_a_private_file_never_a_log(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    with caplog.at_level(logging.DEBUG):
        lines = serving._show_demo_client(tmp_path, ("demo-key", "demo-secret-value"))
    assert not any("demo-secret-value" in line for line in lines)
    kept = tmp_path / serving.DEMO_CLIENT_FILE
    assert "demo-secret-value" in kept.read_text()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "demo-secret-value" not in caplog.text
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert any(
        "demo-secret-value" in line
        for line in serving._show_demo_client(tmp_path, ("k", "demo-secret-value"))
    )
    assert serving._show_demo_client(tmp_path, None) == []
    assert not kept.exists()  # revoked: the secret's file goes
