"""IAM Access Analyzer's ValidatePolicy in a running Lab, answered by labkit's offline validator."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from labkit.apis import ApiError, api
from labkit.errors import AwsError

__all__ = ["validate_policy", "LOCALES"]

#: The Locale enum of botocore's accessanalyzer model. labkit writes its findings in English
#: whichever locale is asked for.
LOCALES = ("DE", "EN", "ES", "FR", "IT", "JA", "KO", "PT_BR", "ZH_CN", "ZH_TW")
_TOKEN_PREFIX = "labkit-findings:"


def _validation_error(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def _check_enum(field: str, value: Any, allowed: Sequence[str]) -> None:
    # AWS's wording for a request field outside its enum.
    if value not in allowed:
        raise _validation_error(f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
                                f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]")


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    number = text[len(_TOKEN_PREFIX):] if text.startswith(_TOKEN_PREFIX) else ""
    if not number.isdigit():
        raise _validation_error("Invalid pagination token: pass the nextToken of the previous response unchanged.")
    return int(number)


@api("accessanalyzer", "ValidatePolicy")
def validate_policy(call: Any, lab: Any) -> dict[str, Any]:
    """The findings for policyDocument, as ValidatePolicy returns them, a page of maxResults at a time."""
    from labkit.policy.validate import POLICY_TYPES, RESOURCE_TYPES
    from labkit.policy.validate import validate_policy as validate

    params = call.params
    _check_enum("policyType", params["policyType"], POLICY_TYPES)
    resource_type = params.get("validatePolicyResourceType")
    if resource_type is not None:
        _check_enum("validatePolicyResourceType", resource_type, RESOURCE_TYPES)
    if params.get("locale") is not None:
        _check_enum("locale", params["locale"], LOCALES)
    limit = params.get("maxResults")
    if limit is not None and limit < 1:
        raise _validation_error(f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy "
                                "constraint: Member must have value greater than or equal to 1")
    try:
        findings = validate(params["policyDocument"], policy_type=params["policyType"], resource_type=resource_type)
    except AwsError as error:
        raise _validation_error(error.message) from None
    items = [finding.to_aws() for finding in findings]
    start = _offset(params["nextToken"]) if params.get("nextToken") else 0
    if start > len(items):
        raise _validation_error("Invalid pagination token: it does not belong to this policy.")
    end = len(items) if limit is None else start + limit
    body: dict[str, Any] = {"findings": items[start:end]}
    if end < len(items):
        body["nextToken"] = base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{end}".encode()).decode("ascii")
    return body
