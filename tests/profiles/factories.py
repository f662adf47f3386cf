"""Profile documents for tests: the core data model's sample item, with unique ids."""

from __future__ import annotations

import copy
import uuid
from typing import Any

SAMPLE: dict[str, Any] = {
    "first_name": "John",
    "last_name": "Smith",
    "middle_name": "Michael",
    "phone": "+1234567890",
    "birth_date": "1985-06-15",
    "gender": "male",
    "role_type": "school_owner",
    "specializations": ["STEM", "Engineering", "Technology"],
    "certification_level": "Master",
    "years_experience": 10,
    "onboarding_progress": {"current_step": 3, "is_completed": False},
    "bootcamp_progress": {
        "enrolled_courses": ["tsa_prep", "career_planning"],
        "quiz_attempts": [
            {
                "quiz_id": "fundamentals_quiz",
                "score": 85,
                "attempted_at": "2024-01-02T14:00:00Z",
                "passed": True,
                "time_spent": 1800,
            }
        ],
        "modules_completed": [
            {
                "module_id": "basics",
                "module_name": "TSA Fundamentals",
                "completed_at": "2024-01-02T12:00:00Z",
                "score": 88,
            }
        ],
        "certifications_earned": [],
        "current_module": "advanced_coaching_techniques",
        "completion_percentage": 67,
        "total_hours_completed": 24.5,
    },
    "students_assigned": [],
    "preferences": {
        "communication_method": "email",
        "notification_settings": {
            "email_notifications": True,
            "sms_notifications": False,
            "reminder_frequency": "daily",
        },
        "timezone": "America/Chicago",
    },
    "documents": [
        {
            "document_id": "doc_001",
            "document_type": "business_plan",
            "document_url": "s3://docs/business-plan-v2.pdf",
            "uploaded_at": "2024-01-01T10:00:00Z",
            "status": "approved",
        }
    ],
    "onboarded_date": "2024-01-01",
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_profile(**overrides: Any) -> dict[str, Any]:
    document = copy.deepcopy(SAMPLE)
    document["school_id"] = overrides.pop("school_id", None) or unique("school")
    document["email"] = overrides.pop("email", None) or f"{unique('pro')}@school.edu"
    document.update(overrides)
    return document
