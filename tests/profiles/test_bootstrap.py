"""bootstrap(): the table is created once; a demo start gets the core model's sample profile."""

from __future__ import annotations

import copy

from gateway import profiles
from gateway.app import create_app
from gateway.extensions import dynamodb, dynamodb_table_name

from .factories import unique


def test_bootstrap_creates_the_table_and_the_demo_profile(
    app, test_config, db_session, auth_headers
):
    config = copy.copy(test_config)
    config.DYNAMODB_TABLE_PREFIX = f"{unique('boot')}-"
    fresh = create_app(config, database=app.extensions["gateway.db"])
    with fresh.app_context():
        profiles.bootstrap(fresh, demo=True)
        profiles.bootstrap(fresh, demo=True)  # idempotent
        table = dynamodb().Table(dynamodb_table_name("profiles"))
        indexes = {i["IndexName"] for i in table.global_secondary_indexes}
    try:
        assert indexes == {"school-index", "email-index"}
        headers = auth_headers(scopes=("profiles.read",))
        response = fresh.test_client().get("/profiles/profile_12345", headers=headers)
        assert response.status_code == 200
        body = response.get_json()
        assert body["role_type"] == "school_owner" and body["version"] == 1
        assert body["bootcamp_progress"]["total_hours_completed"] == 24.5
        assert len(body["bootcamp_progress"]["quiz_attempts"]) == 3
    finally:
        table.delete()
