"""The filter grammar on its own."""

from __future__ import annotations

import pytest

from gateway.errors import BadRequest
from gateway.oneroster.filter_parser import Filter, Predicate, parse_filter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status='active'", Filter((Predicate("status", "=", "active"),))),
        ("a>='1' AND b<'2'", Filter((Predicate("a", ">=", "1"), Predicate("b", "<", "2")), "AND")),
        (
            "a!='x y' OR b~'z'",
            Filter((Predicate("a", "!=", "x y"), Predicate("b", "~", "z")), "OR"),
        ),
        ("a<='1'", Filter((Predicate("a", "<=", "1"),))),
        ("a>'1'", Filter((Predicate("a", ">", "1"),))),
        ("name='O''Brien'", Filter((Predicate("name", "=", "O'Brien"),))),
        ("name='O\\'Brien'", Filter((Predicate("name", "=", "O'Brien"),))),
        ("name='AND OR'", Filter((Predicate("name", "=", "AND OR"),))),
        ("  a = 'b'  ", Filter((Predicate("a", "=", "b"),))),
        ("metadata.color='red'", Filter((Predicate("metadata.color", "=", "red"),))),
        ("score>5", Filter((Predicate("score", ">", "5"),))),
        ('a="x"', Filter((Predicate("a", "=", "x"),))),
    ],
)
def test_parses(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "a=",
        "a='x",
        "='x'",
        "a='1' AND",
        "a='1' AND b='2' OR c='3'",
        "a='1' b='2'",
        "a='1'ANDb='2'",
        "a=='1'",
    ],
)
def test_rejects(text):
    with pytest.raises(BadRequest) as err:
        parse_filter(text)
    assert err.value.code_minor == "invalid_filter_field"
