"""Marshmallow schemas of the profile document (core-data-model.md, DynamoDB section).

Dates and date-times are validated as ISO 8601 but kept as the strings the client sent, so a
profile reads back exactly as it was written; numbers stay numbers and reach DynamoDB through
``codec``. Unknown fields are refused (a typo must not be stored silently) except inside
``preferences``, which is an open bag of per-user settings.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from gateway.errors import ValidationFailed

CODE_LISTS = json.loads((Path(__file__).with_name("code_lists.json")).read_text(encoding="utf-8"))
ROLE_TYPES: list[str] = CODE_LISTS["role_type"]

# Attributes the server owns: ignored on input (a client may PUT back what it read), set on output.
SERVER_FIELDS = ("created_at", "updated_at", "user_sourced_id")


class IsoDate(fields.String):
    default_error_messages = {"invalid_date": "Not a valid ISO 8601 date (YYYY-MM-DD)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            dt.date.fromisoformat(text)
        except ValueError as exc:
            raise self.make_error("invalid_date") from exc
        return text


class IsoDateTime(fields.String):
    default_error_messages = {
        "invalid_datetime": "Not a valid ISO 8601 date-time (e.g. 2024-01-02T14:00:00Z).",
        "naive": "The date-time needs a time zone offset (Z or ±hh:mm).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "T" not in text.upper():
            raise self.make_error("invalid_datetime")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise self.make_error("invalid_datetime") from exc
        if parsed.tzinfo is None:
            raise self.make_error("naive")
        return text


class JsonNumber(fields.Float):
    """A JSON number; a numeric string is not silently accepted as one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        return value if isinstance(value, int) else number


class JsonBoolean(fields.Boolean):
    """Only JSON true/false; "yes" or 1 are not silently read as booleans."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _int(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


def _text(max_length: int = 255, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def _id(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=255), **kwargs)


PERCENT = validate.Range(min=0, max=100)


class DocumentSchema(Schema):
    class Meta:
        unknown = RAISE


class OnboardingProgress(DocumentSchema):
    current_step = _int(validate=validate.Range(min=0))
    is_completed = JsonBoolean()


class QuizAttempt(DocumentSchema):
    quiz_id = _id(required=True)
    score = JsonNumber(validate=PERCENT)
    attempted_at = IsoDateTime()
    passed = JsonBoolean()
    time_spent = _int(validate=validate.Range(min=0))  # seconds


class ModuleCompleted(DocumentSchema):
    module_id = _id(required=True)
    module_name = _text()
    completed_at = IsoDateTime()
    score = JsonNumber(validate=PERCENT)


class CertificationEarned(DocumentSchema):
    certification_id = _id(required=True)
    certification_name = _text()
    earned_at = IsoDateTime()
    expires_at = IsoDateTime()


class BootcampProgress(DocumentSchema):
    enrolled_courses = fields.List(_id())
    quiz_attempts = fields.List(fields.Nested(QuizAttempt))
    modules_completed = fields.List(fields.Nested(ModuleCompleted))
    certifications_earned = fields.List(fields.Nested(CertificationEarned))
    current_module = _text()
    completion_percentage = JsonNumber(validate=PERCENT)
    total_hours_completed = JsonNumber(validate=validate.Range(min=0))


class NotificationSettings(DocumentSchema):
    email_notifications = JsonBoolean()
    sms_notifications = JsonBoolean()
    push_notifications = JsonBoolean()
    reminder_frequency = _text(50)


class Preferences(DocumentSchema):
    class Meta:
        unknown = INCLUDE

    communication_method = _text(50)
    meeting_frequency = _text(50)
    notification_settings = fields.Nested(NotificationSettings)
    dashboard_layout = _text(50)
    timezone = _text(64)


class Upload(DocumentSchema):
    document_id = _id(required=True)
    document_type = _text(100)
    document_url = _text(2048)
    uploaded_at = IsoDateTime()
    status = _text(50)


class ProfileDocument(DocumentSchema):
    """A professional's profile (core-data-model.md, DynamoDB profiles table)."""

    profile_id = fields.String(
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,254}$",
            error="Use 1-255 letters, digits or _ . : @ - (starting with a letter or digit).",
        )
    )
    school_id = _id(required=True)
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    middle_name = _text(100)
    email = fields.Email(required=True, validate=validate.Length(max=255))
    phone = fields.String(
        validate=validate.Regexp(r"^(\+?[0-9 ().-]{3,32})?$", error="Not a valid phone number.")
    )
    birth_date = IsoDate()
    gender = _text(50)
    role_type = fields.String(required=True, validate=validate.OneOf(ROLE_TYPES))
    specializations = fields.List(_text(100))
    certification_level = _text(100)
    years_experience = _int(validate=validate.Range(min=0, max=100))
    onboarding_progress = fields.Nested(OnboardingProgress)
    bootcamp_progress = fields.Nested(BootcampProgress)
    students_assigned = fields.List(_id())
    preferences = fields.Nested(Preferences)
    documents = fields.List(fields.Nested(Upload))
    onboarded_date = IsoDate()
    # The version a PUT is based on (optional; If-Match does the same through the ETag).
    version = _int(validate=validate.Range(min=1))
    created_at = IsoDateTime(dump_only=True)
    updated_at = IsoDateTime(dump_only=True)
    user_sourced_id = fields.String(
        dump_only=True, metadata={"description": "sourcedId of the linked OneRoster user"}
    )

    @pre_load
    def _drop_server_fields(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in SERVER_FIELDS}
        return data


def flatten_errors(messages: Any, path: str = "$") -> dict[str, list[str]]:
    """marshmallow's nested error dict as {"$.a.b[0].c": [messages]} (the gateway's error shape)."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                child = path
            elif isinstance(key, int):
                child = f"{path}[{key}]"
            else:
                child = f"{path}.{key}"
            for sub_path, texts in flatten_errors(value, child).items():
                flat.setdefault(sub_path, []).extend(texts)
    elif isinstance(messages, list):
        flat[path] = [str(m) for m in messages]
    else:
        flat[path] = [str(messages)]
    return flat


_PROFILE = ProfileDocument()


def load_profile(data: Any) -> dict[str, Any]:
    """Validate a whole profile document; ValidationFailed names every bad field."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The request body must be a JSON object.", validation_errors={"$": ["Not an object."]}
        )
    try:
        return _PROFILE.load(data)
    except ValidationError as exc:
        raise ValidationFailed(
            "The profile document is not valid.", validation_errors=flatten_errors(exc.messages)
        ) from exc


class ProfilePatch(Schema):
    """A JSON merge patch (RFC 7396) of the profile: objects merge, null removes a field."""

    class Meta:
        unknown = INCLUDE


class ProfileQuery(Schema):
    class Meta:
        unknown = RAISE

    school_id = fields.String(validate=validate.Length(min=1, max=255))
    email = fields.String(validate=validate.Length(min=1, max=255))
    limit = fields.Integer(validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(min=1, max=2048))


class ProfilePage(Schema):
    profiles = fields.List(fields.Nested(ProfileDocument))
    next_cursor = fields.String(allow_none=True)


__all__ = [
    "ROLE_TYPES",
    "SERVER_FIELDS",
    "ProfileDocument",
    "ProfilePage",
    "ProfilePatch",
    "ProfileQuery",
    "flatten_errors",
    "load_profile",
]
