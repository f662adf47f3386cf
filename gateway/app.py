"""Application factory."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from gateway import db, errors
from gateway.config import Config
from gateway.extensions import init_api
from gateway.normalize import GatewayRequest

CONTEXTS = ("edfi", "oneroster", "mapping", "profiles")


def context_modules() -> list[Any]:
    import importlib

    return [importlib.import_module(f"gateway.{name}") for name in CONTEXTS]


def create_app(config: Config | dict | None = None, database: db.Database | None = None) -> Flask:
    app = Flask(__name__)
    app.request_class = GatewayRequest
    settings = config if isinstance(config, dict) else (config or Config()).as_dict()
    app.config.update(settings)
    if not app.config.get("SECRET_KEY"):
        # Without a configured key, secrets cannot be re-derived across restarts; the CLI sets one
        # from the data directory, so this fallback only serves throwaway apps.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if database is None:
        url = app.config.get("DATABASE_URL")
        if not url:
            raise RuntimeError("DATABASE_URL is not set (the CLI starts an embedded database).")
        database = db.Database(db.make_engine(url, app.config))
    db.init_app(app, database)

    from gateway import admission

    admission.init_app(app)  # inside ProxyFix: a refusal sees the public scheme and host too
    from gateway.public_url import PublicURL

    app.wsgi_app = PublicURL(  # type: ignore[method-assign]
        app.wsgi_app, app.config.get("PUBLIC_BASE_URL"), int(app.config.get("TRUSTED_PROXIES") or 0)
    )
    if app.config.get("TRUSTED_PROXIES"):
        # Behind a TLS load balancer: absolute URLs (hrefs, Link headers) and OAuth 1.0a
        # signature base strings must use the public scheme and host the client used.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    api = init_api(app)
    errors.init_app(app)

    from gateway import audit, auth, docs, health, logs, metrics

    logs.init_app(app)
    metrics.init_app(app)
    audit.init_app(app)

    api.register_blueprint(health.blp)
    auth.init_app(app, api)
    app.register_blueprint(docs.bp)
    for module in context_modules():
        module.init_app(app, api)
    return app
