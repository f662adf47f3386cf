"""The OneRoster v1.1 REST binding: every path of routes.json on one blueprint.

Views only translate HTTP; gateway.oneroster.service and .gradebook hold the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, request
from flask_smorest import Blueprint
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.audit import note_records
from gateway.db import get_session
from gateway.errors import TooManyRequests, imsx_status
from gateway.oneroster import gradebook, service
from gateway.oneroster.access import authenticate, hidden_fields
from gateway.oneroster.catalogue import Nested, View, catalogue
from gateway.oneroster.paging import link_header
from gateway.oneroster.serialize import envelope

DEFAULT_MAX_LIMIT = 5000

blp = Blueprint(
    "oneroster",
    __name__,
    url_prefix=catalogue().base_path,
    description="OneRoster v1.1 REST: rostering, demographics, resources and gradebook",
)


def _json(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return current_app.response_class(
        text, status=status, mimetype="application/json", headers=headers
    )


def _urls() -> tuple[str, str]:
    """(request URL without query, href base). werkzeug rebuilds `base_url`/`host_url` on every
    access, so build the URL once and cut the host part (`scheme://host`) out of it."""
    base_url = request.base_url
    host_end = base_url.find("/", base_url.find("://") + 3)
    return base_url, base_url[:host_end] + catalogue().base_path


def _status_infos(warnings: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        imsx_status(description, minor, major="success", severity="warning")
        for minor, description in warnings
    ]


def _collection(
    view: View, nested: Nested | None = None, ids: dict[str, str] | None = None
) -> Response:
    ctx, reach = authenticate(view.read_scopes)
    base_url, href_base = _urls()
    page = service.list_page(
        get_session(),
        view,
        request.args,
        reach,
        base_url=href_base,
        max_limit=current_app.config.get("ONEROSTER_MAX_LIMIT", DEFAULT_MAX_LIMIT),
        hidden=hidden_fields(ctx),
        nested=nested,
        ids=ids,
    )
    note_records(*page.sourced_ids)
    q = page.query
    headers = {
        "X-Total-Count": str(page.total),
        "Link": link_header(
            base_url, request.args.items(multi=True), q.limit, q.offset, page.total
        ),
    }
    text = envelope(
        view.entity.collection, page.docs, many=True, warnings=_status_infos(q.warnings)
    )
    return _json(text, headers=headers)


def _single(view: View, sourced_id: str, status: int = 200) -> Response:
    ctx, reach = authenticate(view.read_scopes)
    record, q = service.get_one(
        get_session(),
        view,
        sourced_id,
        request.args,
        reach,
        base_url=_urls()[1],
        hidden=hidden_fields(ctx),
    )
    note_records(sourced_id)
    text = envelope(view.entity.single, [record], many=False, warnings=_status_infos(q.warnings))
    return _json(text, status=status)


def _put(view: View, sourced_id: str) -> Response:
    _ctx, reach = authenticate((catalogue().scopes["gradebook_createput"],))
    # a body that is not JSON is a 400 naming the entity, like any other wrong body
    body = request.get_json(silent=True)
    created = gradebook.put(get_session(), view, sourced_id, body, reach)
    note_records(sourced_id, action="create" if created else "update")
    return _single_after_write(view, sourced_id, 201 if created else 200, reach)


def _single_after_write(view: View, sourced_id: str, status: int, reach: service.Reach) -> Response:
    record, _q = service.get_one(
        get_session(),
        view,
        sourced_id,
        {},
        reach,
        base_url=_urls()[1],
        hidden=frozenset({"password"}),
    )
    return _json(envelope(view.entity.single, [record], many=False, warnings=[]), status=status)


def _delete(view: View, sourced_id: str) -> Response:
    _ctx, reach = authenticate((catalogue().scopes["gradebook_delete"],))
    gradebook.delete(get_session(), view, sourced_id, reach)
    note_records(sourced_id)
    return Response(status=204)


def _busy_is_429(view: Callable[..., Response]) -> Callable[..., Response]:
    """No database connection free within DB_POOL_TIMEOUT: the server is busy, so the consumer
    should retry later (OneRoster's 429 `server_busy`), not see a 500."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except PoolTimeout:
            raise TooManyRequests(
                "The server is busy; retry shortly.", headers={"Retry-After": "1"}
            ) from None

    return wrapper


def _query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"in": "query", "name": name, "description": description, "schema": schema}


# The OneRoster 1.1 query language, documented on every collection path.
_COLLECTION_PARAMETERS = [
    _query_parameter(
        "limit",
        "Page size (default 100; capped at ONEROSTER_MAX_LIMIT, 5000).",
        {"type": "integer", "minimum": 1},
    ),
    _query_parameter("offset", "Records to skip (default 0).", {"type": "integer", "minimum": 0}),
    _query_parameter(
        "filter",
        "e.g. dateLastModified>'2026-01-01T00:00:00Z' AND status='active'",
        {"type": "string"},
    ),
    _query_parameter("sort", "Field to sort by (ties broken by sourcedId).", {"type": "string"}),
    _query_parameter("orderBy", "asc or desc", {"type": "string", "enum": ["asc", "desc"]}),
    _query_parameter("fields", "Comma-separated fields to return.", {"type": "string"}),
]


def _register(
    rule: str,
    endpoint: str,
    func: Callable[..., Response],
    methods: list[str],
    doc: str,
    collection: bool = False,
) -> None:
    func = _busy_is_429(func)
    func.__name__ = endpoint
    func.__doc__ = doc
    if collection:
        func = blp.doc(parameters=_COLLECTION_PARAMETERS)(func)
    # strict_slashes=False: `/courses/` is `/courses`, as consumers that join paths send it
    blp.add_url_rule(rule, endpoint=endpoint, view_func=func, methods=methods, strict_slashes=False)


def _register_view(view: View) -> None:
    def many() -> Response:
        return _collection(view)

    def one(sourced_id: str) -> Response:
        if request.method == "PUT":
            return _put(view, sourced_id)
        if request.method == "DELETE":
            return _delete(view, sourced_id)
        return _single(view, sourced_id)

    methods = ["GET", "PUT", "DELETE"] if view.write else ["GET"]
    _register(f"/{view.name}", f"{view.name}_collection", many, ["GET"], f"List {view.name}", True)
    _register(
        f"/{view.name}/<sourced_id>", f"{view.name}_by_id", one, methods, f"One of {view.name}"
    )


def _register_nested(nested: Nested) -> None:
    view = catalogue().views[nested.view]

    def many(**ids: str) -> Response:
        return _collection(view, nested, ids)

    endpoint = nested.path.replace("/", "_").replace("<", "").replace(">", "")
    _register(f"/{nested.path}", endpoint, many, ["GET"], f"List {nested.path}", True)


for _view in catalogue().views.values():
    _register_view(_view)
for _nested in catalogue().nested:
    _register_nested(_nested)
