from __future__ import annotations

import pytest

from tests.oneroster.factories import BASE, district


@pytest.fixture
def roster(db_session):
    district(db_session)
    return db_session


@pytest.fixture
def headers(auth_headers):
    """A district-wide client holding every scope."""
    return auth_headers()


@pytest.fixture
def get(client, headers):
    def _get(path: str, expect: int = 200, **kw):
        response = client.get(BASE + path, headers=kw.pop("headers", headers), **kw)
        assert response.status_code == expect, response.get_data(as_text=True)
        return response

    return _get


def ids(response, key: str) -> list[str]:
    return [item["sourcedId"] for item in response.get_json()[key]]
