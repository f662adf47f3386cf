"""The embedded PostgreSQL runs with the bulk-loading settings, on a new data directory and on
one made before the settings existed (restarted once to apply those read only at start-up)."""

from __future__ import annotations

import psycopg

from gateway.embedded import SERVER_SETTINGS, EmbeddedPostgres


def _running(server: EmbeddedPostgres) -> dict[str, str]:
    url = server.url("postgres").replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SERVER_SETTINGS}


def test_settings_apply_to_new_and_existing_data_directories(tmp_path):
    server = EmbeddedPostgres(tmp_path)
    server.start()
    try:
        assert _running(server) == SERVER_SETTINGS
        url = server.url("postgres").replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET ALL")  # a data directory from before
    finally:
        server.stop()

    again = EmbeddedPostgres(tmp_path)
    again.start()
    try:
        assert _running(again) == SERVER_SETTINGS
    finally:
        again.stop()
