from __future__ import annotations

import pytest

from gateway.profiles.repository import ProfileRepository
from gateway.profiles.tables import ensure_tables

TEST_TABLE = "test-profiles-repository"


@pytest.fixture
def repository_table(dynamodb):
    """The profiles table on the real embedded endpoint, for repository-level tests."""
    ensure_tables(dynamodb, TEST_TABLE)
    return dynamodb.Table(TEST_TABLE)


@pytest.fixture
def repository(repository_table):
    return ProfileRepository(repository_table)


@pytest.fixture
def unused_tcp_port():
    """A loopback port nothing listens on (bound then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def profiles_table(app):
    """The app's profiles table, made by the context's start-up hook (as `gateway serve` does)."""
    from gateway import profiles

    with app.app_context():
        profiles.bootstrap(app, demo=False)
