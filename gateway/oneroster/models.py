"""SQLAlchemy models of the OneRoster v1.1 tables (schema: migrations/versions/oneroster_*)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class OneRosterRow:
    """Columns every OneRoster entity carries."""

    sourced_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    date_last_modified: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    origin: Mapped[str] = mapped_column(
        String(20), default="oneroster-rest", server_default="oneroster-rest"
    )


def _list() -> Mapped[list[str]]:
    return mapped_column(JSONB, default=list, server_default="[]")


def _stored_document() -> Mapped[str | None]:
    """The record's JSON, written by a trigger (gateway.oneroster.documents); never loaded."""
    return mapped_column(Text, deferred=True)


class AcademicSession(OneRosterRow, Base):
    __tablename__ = "academic_sessions"
    title: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    parent_sourced_id: Mapped[str | None] = mapped_column(String(255))
    school_year: Mapped[str | None] = mapped_column(String(4))


class Course(OneRosterRow, Base):
    __tablename__ = "oneroster_courses"
    title: Mapped[str] = mapped_column(String(255))
    school_year_sourced_id: Mapped[str | None] = mapped_column(String(255))
    course_code: Mapped[str | None] = mapped_column(String(255))
    grades: Mapped[list[str]] = _list()
    subjects: Mapped[list[str]] = _list()
    org_sourced_id: Mapped[str | None] = mapped_column(String(255))
    subject_codes: Mapped[list[str]] = _list()


class Class(OneRosterRow, Base):
    __tablename__ = "classes"
    title: Mapped[str] = mapped_column(String(255))
    class_code: Mapped[str | None] = mapped_column(String(255))
    class_type: Mapped[str | None] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(255))
    grades: Mapped[list[str]] = _list()
    subjects: Mapped[list[str]] = _list()
    course_sourced_id: Mapped[str | None] = mapped_column(String(255))
    school_sourced_id: Mapped[str] = mapped_column(String(255))
    term_sourced_ids: Mapped[list[str]] = _list()
    subject_codes: Mapped[list[str]] = _list()
    periods: Mapped[list[str]] = _list()


class Enrollment(OneRosterRow, Base):
    __tablename__ = "enrollments"
    user_sourced_id: Mapped[str] = mapped_column(String(255))
    class_sourced_id: Mapped[str] = mapped_column(String(255))
    school_sourced_id: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    primary: Mapped[bool | None] = mapped_column(Boolean)
    begin_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    document: Mapped[str | None] = _stored_document()


class Demographics(OneRosterRow, Base):
    __tablename__ = "demographics"
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(20))
    american_indian_or_alaska_native: Mapped[bool | None] = mapped_column(Boolean)
    asian: Mapped[bool | None] = mapped_column(Boolean)
    black_or_african_american: Mapped[bool | None] = mapped_column(Boolean)
    native_hawaiian_or_other_pacific_islander: Mapped[bool | None] = mapped_column(Boolean)
    white: Mapped[bool | None] = mapped_column(Boolean)
    demographic_race_two_or_more_races: Mapped[bool | None] = mapped_column(Boolean)
    hispanic_or_latino_ethnicity: Mapped[bool | None] = mapped_column(Boolean)
    country_of_birth_code: Mapped[str | None] = mapped_column(String(10))
    state_of_birth_abbreviation: Mapped[str | None] = mapped_column(String(10))
    city_of_birth: Mapped[str | None] = mapped_column(String(255))
    public_school_residence_status: Mapped[str | None] = mapped_column(String(255))


class Category(OneRosterRow, Base):
    __tablename__ = "categories"
    title: Mapped[str] = mapped_column(Text)  # no length limit in 1.1


class LineItem(OneRosterRow, Base):
    __tablename__ = "line_items"
    title: Mapped[str] = mapped_column(Text)  # no length limit in 1.1
    description: Mapped[str | None] = mapped_column(Text)
    assign_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    class_sourced_id: Mapped[str] = mapped_column(String(255))
    category_sourced_id: Mapped[str | None] = mapped_column(String(255))
    grading_period_sourced_id: Mapped[str | None] = mapped_column(String(255))
    result_value_min: Mapped[float | None] = mapped_column(Float)
    result_value_max: Mapped[float | None] = mapped_column(Float)


class Result(OneRosterRow, Base):
    __tablename__ = "results"
    line_item_sourced_id: Mapped[str] = mapped_column(String(255))
    student_sourced_id: Mapped[str] = mapped_column(String(255))
    score_status: Mapped[str] = mapped_column(String(30))
    score: Mapped[float | None] = mapped_column(Float)
    score_date: Mapped[dt.date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text)


class Resource(OneRosterRow, Base):
    __tablename__ = "resources"
    title: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = _list()
    importance: Mapped[str | None] = mapped_column(String(20))
    vendor_resource_id: Mapped[str] = mapped_column(String(255))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    application_id: Mapped[str | None] = mapped_column(String(255))


class ClassResource(OneRosterRow, Base):
    __tablename__ = "class_resources"
    title: Mapped[str | None] = mapped_column(String(255))
    class_sourced_id: Mapped[str] = mapped_column(String(255))
    resource_sourced_id: Mapped[str] = mapped_column(String(255))


class CourseResource(OneRosterRow, Base):
    __tablename__ = "course_resources"
    title: Mapped[str | None] = mapped_column(String(255))
    course_sourced_id: Mapped[str] = mapped_column(String(255))
    resource_sourced_id: Mapped[str] = mapped_column(String(255))


class Organization(OneRosterRow, Base):
    __tablename__ = "organizations"
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(50))
    identifier: Mapped[str | None] = mapped_column(String(255))
    parent_id: Mapped[str | None] = mapped_column(String(255))


class User(OneRosterRow, Base):
    __tablename__ = "users"
    username: Mapped[str | None] = mapped_column(String(255), unique=True)
    user_ids: Mapped[list[dict[str, str]] | None] = mapped_column(JSONB)
    enabled_user: Mapped[bool | None] = mapped_column(Boolean, default=True)
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    middle_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(50))
    identifier: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    sms: Mapped[str | None] = mapped_column(String(24))
    phone: Mapped[str | None] = mapped_column(String(24))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    agents: Mapped[list[str] | None] = mapped_column(JSONB)
    org_ids: Mapped[list[str] | None] = mapped_column(JSONB)
    grades: Mapped[list[str] | None] = mapped_column(JSONB)
    password: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    document: Mapped[str | None] = _stored_document()
