"""Conditions behind nested paths (routes.json `where`) and organization reach (`reach`).

Each returns a SQLAlchemy condition on the child entity's table; all lookups use indexed columns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    any_,
    cast,
    false,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from gateway.oneroster.catalogue import Entity, catalogue

_CONSTANT = re.compile(r"[A-Za-z]+")


def constant(value: str) -> Any:
    """A value of routes.json (a view's `where`, a relation's role) written into the SQL text: the
    planner then knows it even in a prepared statement's generic plan, where a bound `role` would
    hide how selective it is and lead to a scan of every student."""
    if not _CONSTANT.fullmatch(value):  # inlined, so letters only
        raise ValueError(f"routes.json: value {value!r} is not letters only")
    return literal_column(f"'{value}'", Text)


def _table(entity_name: str) -> Any:
    return catalogue().entities[entity_name].table


def _column(entity: Entity, field_name: str) -> Any:
    return entity.table.c[entity.fields[field_name].column_name]


def _contains(column: Any, value: Any) -> ColumnElement[bool]:
    return column.op("@>")(func.jsonb_build_array(value))


def nested_condition(entity: Entity, relation: tuple[str, ...], ids: Mapping[str, Any]) -> Any:
    """`ids` maps the path's parameters to their values or bound parameters."""
    kind, *args = relation
    table = entity.table
    if kind == "equals":
        field_name, param = args
        return _column(entity, field_name) == ids[param]
    if kind == "contains":
        field_name, param = args
        return _contains(_column(entity, field_name), ids[param])
    if kind == "enrolled_in_class":
        role, param = args
        enrollments = _table("enrollment")
        return table.c.sourced_id.in_(
            select(enrollments.c.user_sourced_id).where(
                enrollments.c.class_sourced_id == ids[param], enrollments.c.role == constant(role)
            )
        )
    if kind == "classes_of_user":
        (param,) = args
        enrollments = _table("enrollment")
        return table.c.sourced_id.in_(
            select(enrollments.c.class_sourced_id).where(
                enrollments.c.user_sourced_id == ids[param]
            )
        )
    if kind == "linked_from":
        owner, field_name, param = args
        link = catalogue().entities[owner].fields[field_name].link or {}
        link_table = table.metadata.tables[link["table"]]
        return table.c.sourced_id.in_(
            select(link_table.c[link["value"]]).where(link_table.c[link["key"]] == ids[param])
        )
    if kind == "terms_of_school_classes":
        (param,) = args
        classes = _table("class")
        terms = select(func.jsonb_array_elements_text(classes.c.term_sourced_ids)).where(
            classes.c.school_sourced_id == ids[param]
        )
        return table.c.sourced_id.in_(terms)
    if kind == "results_of_class":
        (param,) = args
        line_items = _table("lineItem")
        return table.c.line_item_sourced_id.in_(
            select(line_items.c.sourced_id).where(line_items.c.class_sourced_id == ids[param])
        )
    raise LookupError(f"unknown relation {kind}")


def reach_condition(entity: Entity, unrestricted: bool, org_ids: frozenset[str]) -> Any:
    """Rows of `entity` inside the client's organizations (and their descendants)."""
    if unrestricted or entity.reach is None:
        return true()
    if not org_ids:
        return false()
    return reach_in(entity, literal(sorted(org_ids), ARRAY(Text)))


def reach_in(entity: Entity, org_ids: Any) -> Any:
    """Rows of a reach-limited `entity` inside the organizations of `org_ids`, a text[] expression
    (a bound array, so one statement serves any client's list)."""
    kind, *args = entity.reach or ("",)
    table = entity.table
    if kind == "self":
        return table.c.sourced_id == any_(org_ids)
    if kind == "in":
        return _column(entity, args[0]) == any_(org_ids)
    if kind == "overlaps":
        # ?| is answered by the GIN index on the list column.
        return _column(entity, args[0]).op("?|")(cast(org_ids, ARRAY(Text)))
    if kind == "user_of_reach":
        users = catalogue().entities["user"]
        return table.c.sourced_id.in_(
            select(users.table.c.sourced_id).where(reach_in(users, org_ids))
        )
    classes = catalogue().entities["class"]
    classes_in_reach = select(classes.table.c.sourced_id).where(reach_in(classes, org_ids))
    if kind == "class_of_reach":
        return _column(entity, args[0]).in_(classes_in_reach)
    if kind == "line_item_of_reach":
        line_items = _table("lineItem")
        return table.c.line_item_sourced_id.in_(
            select(line_items.c.sourced_id).where(
                line_items.c.class_sourced_id.in_(classes_in_reach)
            )
        )
    raise LookupError(f"unknown reach {kind}")
