"""Extension objects, bound to the app inside create_app."""

from __future__ import annotations

import boto3
from botocore.config import Config as BotoConfig
from flask import Flask, current_app
from flask_smorest import Api


def init_api(app: Flask) -> Api:
    """One flask-smorest Api per app (tests build several apps in one process)."""
    api = Api(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "POST /oauth/token"}
    )
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
