"""The fake's staff, employment and validation answers: what the ODS/API's relationships and
validation wording checks exercise beyond the resources the fake keeps (fake_edfi_resources)."""

from __future__ import annotations

import json
import uuid

from werkzeug.wrappers import Request, Response

from tests.conformance.fake_edfi_model import DATA, problem

STAFF_HINT = (
    "Access to the requested data could not be authorized. Hint: You may need to create "
    "corresponding 'StaffEducationOrganizationEmploymentAssociation' or "
    "'StaffEducationOrganizationAssignmentAssociation' items."
)
EMPLOYMENT_STATUS = {
    "id": "e" * 32,
    "namespace": "uri://ed-fi.org/EmploymentStatusDescriptor",
    "codeValue": "Tenured or permanent",
    "shortDescription": "Tenured or permanent",
}
PROGRAM_ASSIGNMENT = {
    "id": "f" * 32,
    "namespace": "uri://ed-fi.org/ProgramAssignmentDescriptor",
    "codeValue": "Regular Education",
    "shortDescription": "Regular Education",
}
VALIDATION = "Data validation failed. See 'validationErrors' for details."


class People:
    """Staff reached through employment; validation of dates, unified keys, embedded objects."""

    def __init__(self, faults: set[str]) -> None:
        self.faults = faults
        self.staff: dict[str, str] = {}  # id → staffUniqueId
        self.employment: dict[str, str] = {}  # id → staffUniqueId
        self.school_staff: dict[str, str] = {}  # staff school association id → staffUniqueId

    def answer(self, request: Request, parts: list[str]) -> Response | None:
        name, rest, method = parts[0], parts[1:], request.method
        if name == "employmentStatusDescriptors" and method == "GET" and not rest:
            return Response(json.dumps([EMPLOYMENT_STATUS]), content_type="application/json")
        if name == "programAssignmentDescriptors" and method == "GET" and not rest:
            return Response(json.dumps([PROGRAM_ASSIGNMENT]), content_type="application/json")
        if name == "staffSchoolAssociations" and (method != "GET" or rest):
            return self.school_associations(request, rest)
        if method == "GET" and not rest:
            return None  # collections: as every other DS5 resource the fake serves
        if method == "POST" and not rest and name in VALIDATED:
            return VALIDATED[name](self, request.get_json(silent=True) or {})
        if name == "staffs":
            return self.staffs(request, rest)
        if name == "staffEducationOrganizationEmploymentAssociations":
            return self.employments(request, rest)
        return None

    def created(self, name: str, rid: str) -> Response:
        return Response(status=201, headers={"Location": f"{DATA}{name}/{rid}"})

    def staffs(self, request: Request, rest: list[str]) -> Response:
        if request.method == "POST" and not rest:
            body = request.get_json(silent=True) or {}
            years = body.get("yearsOfPriorProfessionalExperience")
            if isinstance(years, (int, float)) and abs(years) > 999.99:  # DECIMAL(5, 2)
                if "decimal_unbounded" not in self.faults:
                    said = "YearsOfPriorProfessionalExperience must be between -999.99 and 999.99."
                    return problem(
                        400,
                        "bad-request:data-validation-failed",
                        VALIDATION,
                        validation={"$.yearsOfPriorProfessionalExperience": [said]},
                    )
            rid = uuid.uuid4().hex
            self.staff[rid] = body.get("staffUniqueId", "")
            return self.created("staffs", rid)
        if len(rest) != 1 or rest[0] not in self.staff:
            return problem(404, "not-found")
        if request.method == "DELETE":
            del self.staff[rest[0]]
            return Response(status=204)
        employed = self.staff[rest[0]] in self.employment.values()
        if "staff_employment_ignored" in self.faults or not employed:
            return problem(403, "security:authorization", STAFF_HINT)
        return Response(json.dumps({"id": rest[0]}), content_type="application/json")

    def employments(self, request: Request, rest: list[str]) -> Response:
        if request.method == "POST" and not rest:
            body = request.get_json(silent=True) or {}
            rid = uuid.uuid4().hex
            self.employment[rid] = body.get("staffReference", {}).get("staffUniqueId", "")
            return self.created("staffEducationOrganizationEmploymentAssociations", rid)
        if request.method == "DELETE" and len(rest) == 1:
            self.employment.pop(rest[0], None)
            return Response(status=204)
        return problem(404, "not-found")

    def school_associations(self, request: Request, rest: list[str]) -> Response:
        """Its school is the client's; its staff member must be reached too (unless the fault
        lets any one securable element decide)."""
        if request.method == "POST" and not rest:
            body = request.get_json(silent=True) or {}
            unique_id = body.get("staffReference", {}).get("staffUniqueId", "")
            employed = unique_id in self.employment.values()
            if not employed and "any_securable_element" not in self.faults:
                return problem(403, "security:authorization", STAFF_HINT)
            rid = uuid.uuid4().hex
            self.school_staff[rid] = unique_id
            return self.created("staffSchoolAssociations", rid)
        if request.method == "DELETE" and len(rest) == 1:
            self.school_staff.pop(rest[0], None)
            return Response(status=204)
        return problem(404, "not-found")

    def academic_week(self, body: dict) -> Response:
        default = "default_date_invalid" in self.faults
        said = "The supplied value is invalid." if default else "BeginDate is required."
        return problem(
            400,
            "bad-request:data-validation-failed",
            VALIDATION,
            validation={"$.beginDate": [said], "$.endDate": [said.replace("Begin", "End")]},
        )

    def chart_of_accounts(self, body: dict) -> Response:
        said = (
            "All values supplied for 'fiscalYear' must match. Review all references and align "
            "the following conflicting values: '2022', '2021'"
        )
        paths = ["$.functionDimensionReference.fiscalYear"]
        if "own_key_not_unified" not in self.faults:
            paths.insert(0, "$.fiscalYear")
        return problem(
            400,
            "bad-request:data-validation-failed",
            VALIDATION,
            validation={p: [said] for p in paths},
        )

    def learning_standard(self, body: dict) -> Response:
        named = (
            "ContentStandard"
            if "object_named_by_property" in self.faults
            else ("LearningStandardContentStandard")
        )
        return problem(
            400,
            "bad-request:data-validation-failed",
            VALIDATION,
            validation={"$.contentStandard": [f"{named} is required."]},
        )


def _bell_schedule(people: People, body: dict) -> Response:
    said = ["All values supplied for 'schoolId' must match."]
    if "items_not_unified" in people.faults:
        said = ["ClassPeriod does not exist."]
    return problem(
        400,
        "bad-request:data-validation-failed",
        VALIDATION,
        validation={"$.classPeriods[0].classPeriodReference.schoolId": said},
    )


VALIDATED = {
    "bellSchedules": _bell_schedule,
    "academicWeeks": People.academic_week,
    "chartOfAccounts": People.chart_of_accounts,
    "learningStandards": People.learning_standard,
}
