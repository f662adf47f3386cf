"""ProfileRepository against the real embedded DynamoDB endpoint."""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest
from botocore.config import Config

from gateway.errors import NotFound, PayloadTooLarge, ServiceUnavailable
from gateway.profiles.codec import from_item, to_item
from gateway.profiles.patching import merge_patch, plan_update
from gateway.profiles.repository import ProfileExists, ProfileRepository, VersionConflict

from .factories import make_profile, unique


def _item(**overrides):
    document = make_profile(**overrides)
    document.setdefault("profile_id", unique("profile"))
    return to_item(document)


def test_create_then_get_round_trips_types(repository):
    document = make_profile(
        profile_id=unique("profile"),
        middle_name="",
        specializations=[],
        preferences={
            "timezone": "",
            "ratios": {"a": 0.1, "b": 1e-7, "c": 123456789012345678},
            "nothing": None,
        },
    )
    repository.create(to_item(document))

    stored = repository.get(document["profile_id"])
    assert isinstance(stored["bootcamp_progress"]["total_hours_completed"], Decimal)
    assert from_item(stored) == {**document, "version": 1}


def test_create_refuses_an_existing_profile_id(repository):
    item = _item()
    repository.create(item)
    with pytest.raises(ProfileExists) as caught:
        repository.create({**item, "first_name": "Other"})
    assert caught.value.status == 409
    assert repository.get(item["profile_id"])["first_name"] == "John"


def test_replace_checks_the_version(repository):
    item = repository.create(_item())
    replaced = repository.replace({**item, "first_name": "Jane"}, expected_version=1)
    assert replaced["version"] == 2

    with pytest.raises(VersionConflict):
        repository.replace({**item, "first_name": "Lost update"}, expected_version=1)
    stored = repository.get(item["profile_id"])
    assert stored["first_name"] == "Jane" and stored["version"] == 2


def test_update_sets_nested_paths_only(repository):
    item = repository.create(_item())
    current = from_item(item)
    patch = {
        "preferences": {"notification_settings": {"sms_notifications": True}, "timezone": None}
    }
    merged = to_item(merge_patch(current, patch))
    expression, names, values = plan_update(item, patch, merged)
    assert "notification_settings" in names.values() and "REMOVE" in expression

    updated = repository.update(
        item["profile_id"], 1, update_expression=expression, names=names, values=values
    )
    assert updated["version"] == 2
    assert updated["preferences"]["notification_settings"] == {
        "email_notifications": True,
        "sms_notifications": True,
        "reminder_frequency": "daily",
    }
    assert "timezone" not in updated["preferences"]
    assert from_item(updated) == {**merge_patch(current, patch), "version": 2}


def test_update_of_a_missing_map_sets_the_whole_map(repository):
    item = _item()
    del item["onboarding_progress"]
    item = repository.create(item)
    patch = {"onboarding_progress": {"current_step": 1}}
    expression, names, values = plan_update(
        item, patch, to_item(merge_patch(from_item(item), patch))
    )
    updated = repository.update(
        item["profile_id"], 1, update_expression=expression, names=names, values=values
    )
    assert updated["onboarding_progress"] == {"current_step": 1}


def test_update_with_a_stale_version_is_a_conflict(repository):
    item = repository.create(_item())
    repository.update(
        item["profile_id"],
        1,
        update_expression="SET #n = :v",
        names={"#n": "gender"},
        values={":v": "f"},
    )
    with pytest.raises(VersionConflict):
        repository.update(
            item["profile_id"],
            1,
            update_expression="SET #n = :v",
            names={"#n": "gender"},
            values={":v": "m"},
        )
    assert repository.get(item["profile_id"])["gender"] == "f"


def test_delete_checks_version_and_existence(repository):
    item = repository.create(_item())
    with pytest.raises(VersionConflict):
        repository.delete(item["profile_id"], expected_version=7)
    repository.delete(item["profile_id"], expected_version=1)
    assert repository.get(item["profile_id"]) is None
    with pytest.raises(NotFound):
        repository.delete(item["profile_id"], expected_version=1)


def test_query_pages_through_the_school_index(repository):
    school = unique("school")
    ids = {repository.create(_item(school_id=school))["profile_id"] for _ in range(5)}
    repository.create(_item())  # another school's profile stays out

    seen, start, pages = [], None, 0
    while True:
        items, start = repository.query("school-index", school, limit=2, start_key=start)
        seen += [i["profile_id"] for i in items]
        pages += 1
        if start is None:
            break
    assert sorted(seen) == sorted(ids) and pages >= 3


def test_query_by_email(repository):
    item = repository.create(_item())
    items, last = repository.query("email-index", item["email"], limit=10)
    assert [i["profile_id"] for i in items] == [item["profile_id"]] and last is None


def test_sets_written_by_other_tools_read_back_as_lists(repository, repository_table):
    item = _item()
    repository_table.put_item(Item={**item, "specializations": {"STEM", "Art"}, "version": 1})
    assert from_item(repository.get(item["profile_id"]))["specializations"] == ["Art", "STEM"]


def test_an_item_over_400_kb_is_refused_before_the_call(repository):
    item = _item(documents=[{"document_id": "big", "status": "x" * (401 * 1024)}])
    with pytest.raises(PayloadTooLarge) as caught:
        repository.create(item)
    assert caught.value.status == 413
    assert repository.get(item["profile_id"]) is None


def test_the_endpoint_size_refusal_is_a_413(repository):
    # An update can grow an item past the limit without the repository seeing the whole item;
    # the endpoint refuses it and that refusal must come back as 413, not a crash.
    item = repository.create(_item())
    big = "x" * (300 * 1024)
    repository.update(
        item["profile_id"],
        1,
        update_expression="SET #a = :a",
        names={"#a": "notes_a"},
        values={":a": big},
    )
    with pytest.raises(PayloadTooLarge):
        repository.update(
            item["profile_id"],
            2,
            update_expression="SET #b = :b",
            names={"#b": "notes_b"},
            values={":b": big},
        )
    assert "notes_b" not in repository.get(item["profile_id"])


def test_an_unreachable_endpoint_is_a_503_with_retry_after(unused_tcp_port):
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{unused_tcp_port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"mode": "standard", "max_attempts": 2}, connect_timeout=1, read_timeout=1
        ),
    )
    repository = ProfileRepository(resource.Table("profiles"))
    with pytest.raises(ServiceUnavailable) as caught:
        repository.get("anything")
    assert caught.value.status == 503
    assert int(caught.value.headers["Retry-After"]) > 0


def test_an_item_stored_without_a_version_is_version_zero(repository, repository_table):
    item = _item()
    repository_table.put_item(Item=item)  # as another tool might write it
    with pytest.raises(VersionConflict):
        repository.replace({**item, "gender": "x"}, expected_version=1)
    updated = repository.update(
        item["profile_id"],
        0,
        update_expression="SET #g = :g",
        names={"#g": "gender"},
        values={":g": "f"},
    )
    assert updated["version"] == 1 and updated["gender"] == "f"
    with pytest.raises(VersionConflict):
        repository.delete(item["profile_id"], expected_version=0)


def test_two_writers_from_one_read_lose_no_update(app, repository):
    """Two clients (own boto3 resources) read the same version; the second write must not win.

    Deliberately interleaved, not threaded: moto's server does not make a conditional write
    atomic against a concurrent request, so a thread race there tests moto, not the gateway.
    """
    from gateway.extensions import make_dynamodb_resource

    item = repository.create(_item(years_experience=0))
    first, second = (
        ProfileRepository(make_dynamodb_resource(app.config).Table(repository.table.name))
        for _ in range(2)
    )
    read_first, read_second = first.get(item["profile_id"]), second.get(item["profile_id"])

    first.replace({**read_first, "years_experience": read_first["years_experience"] + 1}, 1)
    with pytest.raises(VersionConflict):
        second.replace({**read_second, "years_experience": read_second["years_experience"] + 1}, 1)

    again = second.get(item["profile_id"])  # what a client does after the 409: read, retry
    second.replace(
        {**again, "years_experience": again["years_experience"] + 1}, int(again["version"])
    )
    stored = repository.get(item["profile_id"])
    assert stored["years_experience"] == 2 and stored["version"] == 3
