"""OneRoster REST throughput against the physical floor (raw SQL for the same rows), in one run.

    python bench/oneroster_rest.py [--users 50000] [--seconds 3] [--edorg bo-d]

Uses DATABASE_URL when set, else the embedded PostgreSQL (database `oneroster_bench` in
GATEWAY_DATA_DIR). Generates a district once (set-based INSERT … SELECT), then times each scenario
through the Flask app (bearer token, full request cycle) and the same rows fetched by psycopg alone.

--edorg limits the app's client to that organization (and its descendants), so its reads run under
row-level security. `--edorg bo-d`, the district, reaches every row: the same rows as the raw SQL,
which shows what organization limits cost a district-wide client.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from edfi_common import libpq

SCHOOLS = 50
CLASSES_PER_SCHOOL = 60
CLASSES_PER_STUDENT = 12

# X-Total-Count of a whole collection: the app sums the figures the database keeps
# (gateway/oneroster/counts.py), so the best raw SQL for the same answer does too.
STORED_COUNT = (
    "SELECT coalesce(sum(n), 0)::bigint FROM oneroster_counts WHERE table_name = 'users'"
)

USER_COLUMNS = (
    "sourced_id, status, date_last_modified, metadata, username, user_ids, enabled_user, "
    "given_name, family_name, middle_name, role, identifier, email, sms, phone, agents, org_ids, "
    "grades"
)


def database_url() -> tuple[str, Callable[[], None]]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, lambda: None
    from gateway.config import Config
    from gateway.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(Path(Config().GATEWAY_DATA_DIR), database="oneroster_bench")
    return server.start(), server.stop


def generate(conn: psycopg.Connection, users: int) -> None:
    """A district: 1 district, SCHOOLS schools, users (90% students, 6% teachers, 4% parents),
    classes, each student in CLASSES_PER_STUDENT classes of their school, a teacher per class."""
    if (
        conn.execute("SELECT count(*) FROM users WHERE sourced_id LIKE 'bu-%'").fetchone()[0]
        >= users
    ):
        return
    print(f"generating {users} users …", flush=True)
    students, teachers = int(users * 0.90), int(users * 0.06)
    classes = SCHOOLS * CLASSES_PER_SCHOOL
    sql = (Path(__file__).with_name("oneroster_district.sql")).read_text(encoding="utf-8")
    sql = sql.format(
        schools=SCHOOLS,
        classes=classes,
        classes_per_school=CLASSES_PER_SCHOOL,
        last_j=CLASSES_PER_STUDENT - 1,
        students=students,
        teachers=teachers,
        students_and_teachers=students + teachers,
        users=users,
    )
    conn.execute(sql)
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False


def rates(fns: list[Callable[[], object]], seconds: float, slices: int = 6) -> list[float]:
    """Requests/s of each function, measured in interleaved slices so that a machine whose load
    changes during the run (shared CI) skews them alike and their ratios stay meaningful."""
    for fn in fns:
        fn()  # warm up (plans, caches)
    counts, spent = [0] * len(fns), [0.0] * len(fns)
    for _ in range(slices):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds / slices:
                fn()
                counts[i] += 1
            spent[i] += elapsed
    return [c / t for c, t in zip(counts, spent, strict=True)]


def _load() -> str:
    """The machine's load (shared CI): ratios from a busy run are less trustworthy."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--edorg", action="append", default=[], help="limit the client to it")
    args = parser.parse_args()

    url, stop = database_url()
    try:
        run(url, args.users, args.seconds, args.edorg)
    finally:
        stop()


def run(url: str, users: int, seconds: float, edorgs: list[str]) -> None:
    from gateway import migrate
    from gateway.app import create_app
    from gateway.auth.clients import create_client, find_active
    from gateway.auth.tokens import issue_token
    from gateway.config import Config
    from gateway.db import get_session

    migrate.upgrade(url)
    raw = psycopg.connect(libpq(url))
    generate(raw, users)
    total_users = raw.execute("SELECT count(*) FROM users").fetchone()[0]
    total_enrollments = raw.execute("SELECT count(*) FROM enrollments").fetchone()[0]
    print(f"users: {total_users}, enrollments: {total_enrollments}")

    config = Config()
    config.DATABASE_URL, config.SECRET_KEY = url, "oneroster-bench"
    # In-process requests (Flask's test client) are never closed by a server, so admission
    # control, which frees a slot when the response closes, is off: these benches measure the app.
    config.MAX_IN_FLIGHT = 0
    app = create_app(config)

    def bearer_of(orgs: list[str]) -> dict[str, str]:
        with app.app_context():
            session = get_session()
            created, _secret = create_client(
                session, name="bench", education_organization_ids=orgs, all_organizations=not orgs
            )
            client = find_active(session, created.key)
            token = issue_token(session, client, list(created.scopes), 3600)
            session.commit()
        return {"Authorization": f"Bearer {token}"}

    client = app.test_client()
    auth = bearer_of(edorgs)
    # A limited client is compared with an unrestricted one in the same run, slices interleaved.
    auth_all = bearer_of([]) if edorgs else None

    busiest = raw.execute(
        "SELECT class_sourced_id FROM enrollments WHERE role = 'student' "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    since = raw.execute(
        "SELECT date_last_modified FROM users ORDER BY date_last_modified DESC OFFSET %s LIMIT 1",
        (total_users // 10,),
    ).fetchone()[0]
    since_text = since.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    deep = (total_users * 9 // 10 // 100) * 100

    cols = USER_COLUMNS
    in_class = (
        "role = 'student' AND sourced_id IN (SELECT user_sourced_id FROM enrollments "
        "WHERE class_sourced_id = %s AND role = 'student')"
    )
    scenarios = [
        (
            "/users?limit=100",
            f"SELECT {cols} FROM users ORDER BY sourced_id LIMIT 100",
            STORED_COUNT,
            (),
        ),
        (
            "/users?limit=5000",
            f"SELECT {cols} FROM users ORDER BY sourced_id LIMIT 5000",
            STORED_COUNT,
            (),
        ),
        (
            f"/users?limit=100&filter=dateLastModified%3E'{since_text}'",
            f"SELECT {cols} FROM users WHERE date_last_modified > %s ORDER BY sourced_id LIMIT 100",
            "SELECT count(*) FROM users WHERE date_last_modified > %s",
            (since,),
        ),
        (
            f"/users?limit=100&offset={deep}",
            # the best raw SQL for a deep page skips the offset in the key's index alone
            f"SELECT {cols} FROM users WHERE sourced_id >= (SELECT sourced_id FROM users"
            f" ORDER BY sourced_id OFFSET {deep} LIMIT 1) ORDER BY sourced_id LIMIT 100",
            STORED_COUNT,
            (),
        ),
        (
            f"/classes/{busiest}/students",
            f"SELECT {cols} FROM users WHERE {in_class} ORDER BY sourced_id LIMIT 100",
            f"SELECT count(*) FROM users WHERE {in_class}",
            (busiest,),
        ),
    ]
    print(f"client limited to: {', '.join(edorgs) or 'nothing (reaches every organization)'}")
    print(f"load average before: {_load()}")
    print(
        f"\n{'scenario':58} {'app r/s':>9} {'raw r/s':>9} {'ratio':>6} "
        f"{'raw+count':>10} {'ratio':>6}"
        + (f" {'all-orgs r/s':>12} {'limited/all':>11}" if auth_all else "")
    )
    results = {}
    for path, page_sql, count_sql, params in scenarios:
        full = "/ims/oneroster/v1p1" + path

        def through_app(full: str = full) -> None:
            response = client.get(full, headers=auth)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]

        def raw_page(page_sql: str = page_sql, params: tuple = params) -> None:
            raw.execute(page_sql, params).fetchall()

        def raw_page_and_count(
            page_sql: str = page_sql, count_sql: str = count_sql, params: tuple = params
        ) -> None:
            raw.execute(count_sql, params).fetchone()
            raw.execute(page_sql, params).fetchall()

        def through_app_all(full: str = full) -> None:
            response = client.get(full, headers=auth_all)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]

        fns = [through_app, raw_page, raw_page_and_count]
        app_rate, raw_rate, floor_rate, *all_rate = rates(
            fns + [through_app_all] if auth_all else fns, seconds
        )
        results[path] = app_rate
        print(
            f"{path[:58]:58} {app_rate:9.1f} {raw_rate:9.1f} {app_rate / raw_rate:6.2f} "
            f"{floor_rate:10.1f} {app_rate / floor_rate:6.2f}"
            + (f" {all_rate[0]:12.1f} {app_rate / all_rate[0]:11.2f}" if all_rate else "")
        )
    shallow, deep_rate = results[scenarios[0][0]], results[scenarios[3][0]]
    print(f"\ndeep page (offset {deep}) costs {shallow / deep_rate:.2f}x a shallow one")
    print(f"load average after: {_load()}")
    raw.close()


if __name__ == "__main__":
    main()
