"""Collection paging parameters: offset/limit, cursor tokens, change-version windows.

A cursor page token carries the last id served and, for a partition, the last id of the partition;
pages are read with `id > after [AND id <= upper] ORDER BY id LIMIT n`, an index range scan
whose cost does not grow with depth.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass

from gateway.errors import ParameterValidationFailed

MAX_LIMIT = 500
# without a limit the ODS/API 7.3 serves its DefaultPageSizeLimit, the maximum (its own suite
# expects 500 students from `GET /students`), though the OpenAPI documents a default of 25
DEFAULT_LIMIT = MAX_LIMIT
MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET is a bigint
MAX_CHANGE_VERSION = 2**63 - 1  # change_version is a bigint too
PAGING_PARAMS = (
    "offset",
    "limit",
    "totalcount",
    "pagesize",
    "pagetoken",
    "minchangeversion",
    "maxchangeversion",
)

# partitions: as many as asked (default 10, at most 200), none smaller than five full pages
# unless allowSmallPartitions=true (the ODS/API's rule)
DEFAULT_PARTITIONS = 10
MAX_PARTITIONS = 200
MIN_PARTITION_SIZE = 5 * MAX_LIMIT
INVALID_REQUEST = "The request construction was invalid."
ODS_WORDING = {
    "limit": "Limit must be a value between {minimum} and {maximum}.",
    "offset": "Offset cannot be a negative value.",
}


@dataclass
class Paging:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    total_count: bool = False
    cursor: bool = False
    after: uuid.UUID | None = None
    upper: uuid.UUID | None = None
    min_change_version: int | None = None
    max_change_version: int | None = None


def _int(args: dict[str, str], name: str, minimum: int, maximum: int | None = None) -> int | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ParameterValidationFailed(
            f"The value '{raw}' is not valid for {name}.",
            validation_errors={name: [f"{name} must be an integer."]},
        ) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        if name in ODS_WORDING:  # the ODS/API's problem: a generic detail, the rule in errors
            raise ParameterValidationFailed(
                INVALID_REQUEST,
                errors=[ODS_WORDING[name].format(minimum=minimum, maximum=maximum)],
                validation_errors={name: [f"{name} must be {bound}."]},
            )
        raise ParameterValidationFailed(
            f"{name} must be {bound}.", validation_errors={name: [f"{name} must be {bound}."]}
        )
    return value


def encode_token(after: uuid.UUID | None, upper: uuid.UUID | None) -> str:
    payload = json.dumps(
        {"a": str(after) if after else None, "u": str(upper) if upper else None},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return (
            uuid.UUID(data["a"]) if data.get("a") else None,
            uuid.UUID(data["u"]) if data.get("u") else None,
        )
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ParameterValidationFailed(  # the ODS/API's words
            "The request construction was invalid.",
            errors=["The page token provided was invalid."],
            validation_errors={"pageToken": ["pageToken is not a valid page token."]},
        ) from None


def parse(args: dict[str, str]) -> Paging:
    """`args` maps lower-cased parameter names to values."""
    p = Paging()
    offset = _int(args, "offset", 0, MAX_OFFSET)
    limit = _int(args, "limit", 0, MAX_LIMIT)
    page_size = _int(args, "pagesize", 1, MAX_LIMIT)
    token = args.get("pagetoken")
    cursor = page_size is not None or token is not None
    if cursor and offset is not None:
        raise ParameterValidationFailed(  # the ODS/API 7.3's words
            INVALID_REQUEST,
            errors=[
                "Both offset and pageToken parameters were provided, but they support "
                "alternative paging approaches and cannot be used together."
            ],
            validation_errors={"offset": ["offset cannot be combined with pageToken."]},
        )
    raw_total = args.get("totalcount")
    if raw_total is not None:
        if raw_total.lower() not in ("true", "false"):
            raise ParameterValidationFailed(
                "totalCount must be true or false.",
                validation_errors={"totalCount": ["totalCount must be true or false."]},
            )
        p.total_count = raw_total.lower() == "true"
    if token is not None and p.total_count:
        raise ParameterValidationFailed(
            INVALID_REQUEST,
            errors=[
                "Total count cannot be determined while using cursor paging "
                "(when pageToken is specified)."
            ],
            validation_errors={"totalCount": ["totalCount cannot be combined with pageToken."]},
        )
    if page_size is not None and token is None:
        # as the ODS/API 7.3: a cursor walk starts from a token (of /partitions, or the
        # Next-Page-Token of a first page read without pageSize)
        raise ParameterValidationFailed(
            INVALID_REQUEST,
            errors=["PageToken is required when pageSize is specified."],
            validation_errors={"pageToken": ["PageToken is required when pageSize is specified."]},
        )
    if page_size is not None or token is not None:
        p.cursor = True
        # pageSize sizes a cursor page; a limit beside it is ignored (the ODS/API 7.3's suite
        # sends limit=0 with both), and alone it stands for the page size
        if page_size is not None:
            p.limit = page_size
        else:
            p.limit = limit if limit else DEFAULT_LIMIT
        if token is not None:
            p.after, p.upper = decode_token(token)
    else:
        p.offset = offset or 0
        p.limit = DEFAULT_LIMIT if limit is None else limit
    p.min_change_version = _int(args, "minchangeversion", 0, MAX_CHANGE_VERSION)
    p.max_change_version = _int(args, "maxchangeversion", 0, MAX_CHANGE_VERSION)
    return p


def parse_tracked(args: dict[str, str]) -> Paging:
    """parse() for /deletes and /keyChanges, whose limit and offset the ODS/API checks together
    and words differently."""
    errors = []
    for name, low, rule in (
        ("limit", 1, f"Limit must be omitted or set to a value between 1 and {MAX_LIMIT}."),
        ("offset", 0, "Offset must be greater than or equal to 0."),
    ):
        raw = args.get(name)
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            errors.append(rule)
            continue
        if value < low or (name == "limit" and value > MAX_LIMIT):
            errors.append(rule)
    if errors:
        raise ParameterValidationFailed(
            "Parameters supplied to the request were invalid.", errors=errors
        )
    return parse(args)
