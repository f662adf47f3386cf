"""Merge patch semantics and the UpdateExpression built from them (pure functions)."""

from __future__ import annotations

from gateway.profiles.patching import MAX_EXPRESSION_CHARS, merge_patch, plan_update


def test_merge_patch_follows_rfc_7396():
    target = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    patch = {"a": {"b": None, "c": [3], "e": {"f": None, "g": 1}}, "d": None, "h": ""}
    assert merge_patch(target, patch) == {"a": {"c": [3], "e": {"g": 1}}, "h": ""}
    assert target == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}  # the input is left alone


def test_plan_addresses_stored_maps_member_by_member():
    current = {"preferences": {"notification_settings": {"sms": False, "email": True}, "tz": "x"}}
    patch = {"preferences": {"notification_settings": {"sms": True}, "tz": None}, "new": {"a": 1}}
    merged = merge_patch(current, patch)
    expression, names, values = plan_update(current, patch, merged)
    sets, removes = expression.split(" REMOVE ")
    resolved = sets
    for placeholder, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        resolved = resolved.replace(placeholder, name)
        removes = removes.replace(placeholder, name)
    assert resolved.startswith("SET ")
    assert "preferences.notification_settings.sms = " in resolved and "new = " in resolved
    assert removes == "preferences.tz"
    assert sorted(values.values(), key=str) == sorted([True, {"a": 1}], key=str)


def test_a_long_plan_falls_back_to_whole_top_level_attributes():
    current = {"preferences": {"tz": "x"}, "gender": "m"}
    patch = {"preferences": {f"k{n}": n for n in range(400)}, "gender": None}
    merged = merge_patch(current, patch)
    expression, names, values = plan_update(current, patch, merged)
    assert len(expression) < MAX_EXPRESSION_CHARS
    assert sorted(names.values()) == ["gender", "preferences"]
    assert list(values.values()) == [merged["preferences"]]
