"""Profiles: the API's overhead over the DynamoDB calls it makes, measured in one run.

get-by-id:        GET /profiles/{id}              vs table.get_item(ConsistentRead=True)
query-by-school:  GET /profiles?school_id=..      vs table.query(IndexName="school-index")

Runs the app in-process (Flask test client) against the configured PostgreSQL and DynamoDB endpoint,
or embedded ones started for the run (data under GATEWAY_DATA_DIR, default .gateway-data/bench).
Usage: python bench/profiles.py [--profiles 200] [--rounds 3] [--page 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from boto3.dynamodb.conditions import Key


def _timed(operation: Callable[[], object], repeat: int) -> float:
    """Median seconds per call over `repeat` calls, after a short warm-up."""
    for _ in range(min(10, repeat)):
        operation()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _profile(school_id: str, n: int) -> dict:
    return {
        "school_id": school_id,
        "first_name": "Bench",
        "last_name": f"Educator {n}",
        "email": f"bench-{uuid.uuid4().hex[:10]}@example.edu",
        "role_type": "coach",
        "specializations": ["STEM", "Leadership"],
        "years_experience": n % 30,
        "bootcamp_progress": {
            "enrolled_courses": ["tsa_prep", "career_planning"],
            "quiz_attempts": [
                {
                    "quiz_id": f"quiz_{i}",
                    "score": 70 + i,
                    "attempted_at": "2024-01-02T14:00:00Z",
                    "passed": True,
                }
                for i in range(5)
            ],
            "completion_percentage": 40,
            "total_hours_completed": 12.5,
        },
        "preferences": {
            "communication_method": "email",
            "notification_settings": {"email_notifications": True},
        },
    }


def run(profiles: int, rounds: int, page: int) -> None:
    from gateway import migrate
    from gateway.app import create_app
    from gateway.auth.clients import create_client
    from gateway.auth.tokens import issue_token
    from gateway.db import get_session
    from gateway.extensions import dynamodb, dynamodb_table_name
    from gateway.profiles import bootstrap
    from gateway.runtime import Runtime

    with Runtime(dynamodb=True) as config:
        config.DYNAMODB_TABLE_PREFIX = "bench-"
        # In-process requests (Flask's test client) are never closed by a server, so admission
        # control, which frees a slot when the response closes, is off.
        config.MAX_IN_FLIGHT = 0
        migrate.upgrade(config.DATABASE_URL)
        app = create_app(config)
        scopes = ["profiles.read", "profiles.write"]
        with app.app_context():
            bootstrap(app, demo=False)
            session = get_session()
            api_client, _ = create_client(
                session, name="bench-profiles", scopes=scopes, all_organizations=True
            )
            token = issue_token(session, api_client, scopes, 3600)
            session.commit()
            table = dynamodb().Table(dynamodb_table_name("profiles"))
        http = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        school = f"bench-school-{uuid.uuid4().hex[:8]}"
        ids = []
        for n in range(profiles):
            response = http.post("/profiles", json=_profile(school, n), headers=headers)
            assert response.status_code == 201, response.get_json()
            ids.append(response.get_json()["profile_id"])
        print(f"{profiles} profiles in school {school}; median of {rounds} interleaved rounds")

        def api_get(i: list[int] = [0]) -> None:  # noqa: B006 - a cheap round-robin counter
            i[0] += 1
            assert http.get(f"/profiles/{ids[i[0] % len(ids)]}", headers=headers).status_code == 200

        def raw_get(i: list[int] = [0]) -> None:  # noqa: B006
            i[0] += 1
            assert "Item" in table.get_item(
                Key={"profile_id": ids[i[0] % len(ids)]}, ConsistentRead=True
            )

        def api_query() -> None:
            response = http.get(
                "/profiles", query_string={"school_id": school, "limit": page}, headers=headers
            )
            assert len(response.get_json()["profiles"]) == min(page, profiles)

        def raw_query() -> None:
            response = table.query(
                IndexName="school-index",
                KeyConditionExpression=Key("school_id").eq(school),
                Limit=page,
            )
            assert len(response["Items"]) == min(page, profiles)

        rows = []
        for name, api, raw, calls in (
            ("get-by-id", api_get, raw_get, profiles),
            (f"query-by-school ({page}/page)", api_query, raw_query, max(10, profiles // 10)),
        ):
            # Interleaved rounds, so a slow spell of the shared machine hits both sides alike.
            api_runs, raw_runs = [], []
            for _ in range(rounds):
                api_runs.append(_timed(api, calls))
                raw_runs.append(_timed(raw, calls))
            rows.append((name, statistics.median(api_runs), statistics.median(raw_runs)))
        print(f"{'operation':32} {'API ms':>9} {'boto3 ms':>9} {'ratio':>7}")
        for name, api_s, raw_s in rows:
            print(f"{name:32} {api_s * 1000:9.2f} {raw_s * 1000:9.2f} {api_s / raw_s:7.2f}x")

        with table.batch_writer() as batch:
            for profile_id in ids:
                batch.delete_item(Key={"profile_id": profile_id})
        with app.app_context():
            session = get_session()
            session.merge(api_client).active = False
            session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--page", type=int, default=25)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ.setdefault("GATEWAY_DATA_DIR", str(Path(".gateway-data") / "bench"))
    run(args.profiles, args.rounds, args.page)


if __name__ == "__main__":
    main()
