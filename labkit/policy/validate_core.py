"""The parts every policy check shares: issue codes, findings, locations and the checking context."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Iterator

from labkit.policy.jsonpos import JsonPath, Key, Position, Span

__all__ = ["ISSUES", "LABKIT_ISSUES", "Location", "Finding", "Findings", "Context", "Entry", "entries", "strings",
           "condition_keys", "sort_key"]

_CHECKS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
_KIND = {"ERROR": "error", "WARNING": "general-warning", "SECURITY_WARNING": "security-warning",
         "SUGGESTION": "suggestion"}

_AWS_CODES = {
    "ERROR": """JSON_SYNTAX_ERROR DATA_TYPE_MISMATCH INVALID_POLICY_ELEMENT MISSING_STATEMENT
        MISSING_EFFECT INVALID_EFFECT MISSING_ACTION MISSING_RESOURCE MISSING_PRINCIPAL
        INVALID_VERSION UNSUPPORTED_ELEMENT_COMBINATION UNSUPPORTED_PRINCIPAL UNIQUE_SIDS_REQUIRED
        UNSUPPORTED_SID INVALID_ACTION INVALID_SERVICE_IN_ACTION INVALID_SERVICE INVALID_ARN_PREFIX
        MISSING_ARN_FIELD INVALID_PARTITION INVALID_ARN_SERVICE_CASE INVALID_ARN_REGION
        MISSING_ARN_REGION ARN_REGION_NOT_ALLOWED INVALID_ARN_ACCOUNT ARN_ACCOUNT_NOT_ALLOWED
        INVALID_ARN_RESOURCE INVALID_CONDITION_OPERATOR NULL_WITH_IF_EXISTS
        INVALID_CONDITION_KEY_FORMAT INVALID_GLOBAL_CONDITION_KEY UNSUPPORTED_GLOBAL_CONDITION_KEY
        INVALID_SERVICE_CONDITION_KEY MISSING_TAG_KEY_IN_CONDITION DUPLICATE_KEYS_WITH_DIFFERENT_CASE
        MISSING_QUALIFIER INVALID_VARIABLE_FOR_OPERATOR VARIABLE_UNSUPPORTED_IN_VERSION
        INVALID_CONDITION_MULTIPLE_BOOLEAN UNSUPPORTED_ACTION_FOR_CONDITION_KEY PRIVATE_IP_ADDRESS
        PRIVATE_NOT_IP_ADDRESS INVALID_PRINCIPAL_FORMAT INVALID_PRINCIPAL_KEY
        UNSUPPORTED_WILDCARD_IN_PRINCIPAL INVALID_SERVICE_PRINCIPAL_FORMAT
        SCP_SYNTAX_ERROR_ACTION_WILDCARD SCP_SYNTAX_ERROR_ALLOW_CONDITION SCP_SYNTAX_ERROR_ALLOW_NOTACTION
        SCP_SYNTAX_ERROR_ALLOW_RESOURCE SCP_SYNTAX_ERROR_NOTRESOURCE SCP_SYNTAX_ERROR_PRINCIPAL
        POLICY_SIZE_EXCEEDS_SCP_QUOTA ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL
        ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE
        MISMATCHED_ACTION_FOR_PRINCIPAL UNSUPPORTED_ACTION_IN_POLICY UNSUPPORTED_RESOURCE_ARN_IN_POLICY""",
    "WARNING": """MISSING_VERSION UNIQUE_SIDS_RECOMMENDED WILDCARD_WITHOUT_LIKE_OPERATOR TYPE_MISMATCH
        TYPE_MISMATCH_BOOLEAN TYPE_MISMATCH_DATE TYPE_MISMATCH_IP_RANGE TYPE_MISMATCH_NUMBER
        TYPE_MISMATCH_STRING CREATE_SLR_WITH_NOT_RESOURCE CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE
        CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE CREATE_SLR_WITH_STAR_IN_RESOURCE
        CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION
        INVALID_ROLE_REFERENCE INVALID_USER_REFERENCE POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA""",
    "SECURITY_WARNING": """ALLOW_WITH_NOT_PRINCIPAL FORALLVALUES_WITH_SINGLE_VALUED_KEY
        PASS_ROLE_WITH_NOT_RESOURCE PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE
        PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE PASS_ROLE_WITH_STAR_IN_RESOURCE
        PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION
        RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL""",
    "SUGGESTION": """EMPTY_ARRAY_ACTION EMPTY_ARRAY_RESOURCE EMPTY_ARRAY_PRINCIPAL EMPTY_ARRAY_CONDITION
        EMPTY_ARRAY_CONDITION_FORALLVALUES EMPTY_ARRAY_CONDITION_FORANYVALUE
        EMPTY_ARRAY_CONDITION_IFEXISTS EMPTY_OBJECT_CONDITION EMPTY_OBJECT_PRINCIPAL EMPTY_SID_VALUE
        IMPROVE_IP_RANGE NULL_WITH_QUALIFIER PRIVATE_IP_ADDRESS_SUBSET PRIVATE_NOT_IP_ADDRESS_SUBSET
        REDUNDANT_ACTION REDUNDANT_RESOURCE REDUNDANT_STATEMENT WILDCARD_IN_SERVICE_NAME""",
}

#: Checks labkit adds where the Access Analyzer reference has none: code -> (type, learn-more link).
LABKIT_ISSUES: dict[str, tuple[str, str]] = {
    "RESOURCE_TYPE_MISMATCH": ("WARNING", _GUIDE + "reference_policies_elements_resource.html"),
    "UNRELIABLE_MFA_CONDITION": (
        "SECURITY_WARNING", _GUIDE + "reference_policies_condition-keys.html#condition-keys-multifactorauthpresent"),
    "PUBLIC_PRINCIPAL_WITHOUT_CONDITION": (
        "SECURITY_WARNING", _GUIDE + "reference_policies_elements_principal.html#principal-anonymous"),
}

#: Every issue code labkit reports: code -> (finding type, learn-more link).
ISSUES: dict[str, tuple[str, str]] = {
    code: (kind, f"{_CHECKS}#access-analyzer-reference-policy-checks-{_KIND[kind]}-{code.lower().replace('_', '-')}")
    for kind, codes in _AWS_CODES.items()
    for code in codes.split()
} | LABKIT_ISSUES

_ORDER = {"ERROR": 0, "SECURITY_WARNING": 1, "WARNING": 2, "SUGGESTION": 3}


@dataclass(frozen=True)
class Location:
    """Where a finding points: a path into the policy (as in :mod:`labkit.policy.jsonpos`) and its span."""

    path: JsonPath
    span: Span

    def to_aws(self) -> dict[str, Any]:
        steps = [{"key": s.name} if isinstance(s, Key) else {"index": s} if isinstance(s, int) else {"value": s}
                 for s in self.path]
        return {"path": steps, "span": {"start": _position(self.span.start), "end": _position(self.span.end)}}


def _position(p: Position) -> dict[str, int]:
    return {"line": p.line, "column": p.column, "offset": p.offset}


@dataclass(frozen=True)
class Finding:
    """One finding, as Access Analyzer's ValidatePolicy reports it."""

    finding_type: str
    issue_code: str
    finding_details: str
    learn_more_link: str
    locations: tuple[Location, ...] = ()

    def __str__(self) -> str:
        where = ", ".join(_describe(loc) for loc in self.locations) or "the whole policy"
        return f"{self.finding_type} {self.issue_code} at {where}: {self.finding_details}"

    def to_aws(self) -> dict[str, Any]:
        """This finding in ValidatePolicy's response shape (``findingType``, ``issueCode``...)."""
        return {
            "findingDetails": self.finding_details,
            "findingType": self.finding_type,
            "issueCode": self.issue_code,
            "learnMoreLink": self.learn_more_link,
            "locations": [location.to_aws() for location in self.locations],
        }


class Findings(list[Finding]):
    """The findings for one policy: a list that also renders as a table in a notebook."""

    @property
    def codes(self) -> list[str]:
        return [f.issue_code for f in self]

    def of_type(self, finding_type: str) -> Findings:
        return Findings(f for f in self if f.finding_type == finding_type)

    def to_aws(self) -> dict[str, Any]:
        """The whole ValidatePolicy response: ``{"findings": [...]}``."""
        return {"findings": [f.to_aws() for f in self]}

    def __str__(self) -> str:
        return "\n".join(str(f) for f in self) if self else "No findings."

    def _repr_html_(self) -> str:
        if not self:
            return "<p>✔ No findings: the policy passes every check.</p>"
        colours = {"ERROR": "#c62828", "SECURITY_WARNING": "#ad1457", "WARNING": "#ef6c00", "SUGGESTION": "#1565c0"}
        rows = []
        for f in self:
            where = ", ".join(_describe(loc) for loc in f.locations) or "(whole policy)"
            rows.append(
                f"<tr><td style='color:{colours.get(f.finding_type, 'black')}'><b>{f.finding_type}</b></td>"
                f"<td><a href='{html.escape(f.learn_more_link)}' target='_blank'><code>{f.issue_code}</code></a></td>"
                f"<td>{html.escape(f.finding_details)}</td><td>{html.escape(where)}</td></tr>"
            )
        head = "<tr><th>Type</th><th>Issue</th><th>Details</th><th>Where</th></tr>"
        return f"<table>{head}{''.join(rows)}</table>"


def _describe(location: Location) -> str:
    path = "".join(f"[{s}]" if isinstance(s, int) else f".{s.name} (key)" if isinstance(s, Key) else f".{s}"
                   for s in location.path)
    return f"{path.lstrip('.') or 'policy'} (line {location.span.start.line})"


@dataclass(frozen=True)
class Entry:
    """One string (or other value) in a policy element, with its path: ``Action[2]`` or ``Action``."""

    path: JsonPath
    value: Any


@dataclass
class Context:
    """One validation run: the parsed policy, its spans, its type, and the findings so far."""

    text: str
    policy: Any
    spans: dict[JsonPath, Span]
    policy_type: str
    resource_type: str | None
    findings: Findings = field(default_factory=Findings)

    @property
    def is_trust_policy(self) -> bool:
        return self.resource_type == "AWS::IAM::AssumeRolePolicyDocument"

    def add(self, code: str, details: str, *paths: JsonPath) -> None:
        """Report ``code`` at each path; a path not in the document points at its nearest ancestor."""
        finding_type, link = ISSUES[code]
        locations = []
        for path in paths:
            probe = path
            while probe not in self.spans and probe:
                probe = probe[:-1]
            if probe in self.spans:
                locations.append(Location(path if path in self.spans else probe, self.spans[probe]))
        self.findings.append(Finding(finding_type, code, details, link, tuple(locations)))

    def statements(self) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
        """Each statement that is an object, with its path (``("Statement",)`` for a lone object)."""
        body = self.policy.get("Statement") if isinstance(self.policy, dict) else None
        if isinstance(body, dict):
            yield ("Statement",), body
        elif isinstance(body, list):
            for index, statement in enumerate(body):
                if isinstance(statement, dict):
                    yield ("Statement", index), statement


def entries(path: JsonPath, statement: dict[str, Any], element: str) -> list[Entry]:
    """The values of ``element``: one entry for a lone value, one per item for a list."""
    value = statement.get(element)
    if isinstance(value, list):
        return [Entry(path + (element, i), item) for i, item in enumerate(value)]
    if element in statement:
        return [Entry(path + (element,), value)]
    return []


def strings(path: JsonPath, statement: dict[str, Any], element: str) -> list[Entry]:
    """Like :func:`entries`, keeping only the string values (the others are reported elsewhere)."""
    return [e for e in entries(path, statement, element) if isinstance(e.value, str)]


def condition_keys(statement: dict[str, Any]) -> set[str]:
    """The lower-case condition keys a statement tests, under any operator."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return set()
    return {key.lower() for block in condition.values() if isinstance(block, dict) for key in block}


def sort_key(finding: Finding) -> tuple[int, int]:
    offset = finding.locations[0].span.start.offset if finding.locations else -1
    return offset, _ORDER.get(finding.finding_type, 9)
