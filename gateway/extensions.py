"""Extension objects, bound to the app inside create_app."""

from __future__ import annotations

import boto3
from botocore.config import Config as BotoConfig
from flask import Flask, current_app
from flask_smorest import Api

# How callers authenticate, declared so that Swagger UI's "Authorize" then "Try it out" work:
# OAuth2 client credentials (the token URL is this server's, relative to the document), a bearer
# token obtained elsewhere, and OAuth 1.0a, which OpenAPI 3.0 cannot express, described on the
# Authorization header it signs.
SECURITY_SCHEMES: dict[str, dict] = {
    "oauth2": {
        "type": "oauth2",
        "description": "OAuth 2.0 client credentials: the API client's key and secret.",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
    },
    "bearer": {"type": "http", "scheme": "bearer", "description": "POST /oauth/token"},
    "oauth1": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            "OneRoster v1.1 only: OAuth 1.0a signed requests (HMAC-SHA1 or HMAC-SHA256, the API "
            "client's key as oauth_consumer_key and its secret as consumer secret). Each request "
            "is signed separately, which Swagger UI cannot do: use an OAuth 1.0a client, or "
            "OAuth 2.0 here."
        ),
    },
}
# any one of them authenticates a call; routes that need none say security=[]
DEFAULT_SECURITY: list[dict[str, list[str]]] = [{"oauth2": []}, {"bearer": []}, {"oauth1": []}]


def init_api(app: Flask) -> Api:
    """One flask-smorest Api per app (tests build several apps in one process)."""
    app.config.setdefault("API_SPEC_OPTIONS", {"security": DEFAULT_SECURITY})
    api = Api(app)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    app.extensions["gateway.api"] = api
    return api


def _boto_kwargs(config: dict) -> dict:
    kwargs: dict = {"region_name": config["AWS_REGION"]}
    if config.get("DYNAMODB_ENDPOINT_URL"):
        kwargs["endpoint_url"] = config["DYNAMODB_ENDPOINT_URL"]
    return kwargs


def make_dynamodb_resource(config: dict, *, attempts: int = 5, connect_timeout: float = 3.0):
    """A boto3 DynamoDB resource; standard boto3 configuration applies (credentials, region)."""
    boto_config = BotoConfig(
        retries={"max_attempts": attempts, "mode": "adaptive"},
        connect_timeout=connect_timeout,
        read_timeout=10,
    )
    return boto3.resource("dynamodb", config=boto_config, **_boto_kwargs(config))


def dynamodb():
    """The app's DynamoDB resource (created once per app; boto3 resources are cheap to share)."""
    ext = current_app.extensions
    if "gateway.dynamodb" not in ext:
        ext["gateway.dynamodb"] = make_dynamodb_resource(current_app.config)
    return ext["gateway.dynamodb"]


def dynamodb_table_name(name: str, config: dict | None = None) -> str:
    config = config or current_app.config
    return f"{config['DYNAMODB_TABLE_PREFIX']}{name}"
