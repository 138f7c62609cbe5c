"""IAM's policy simulator APIs in a running Lab: Simulate*Policy and GetContextKeysFor*Policy."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from labkit.apis import ApiError, api
from labkit.apis.principal_policies import Principal, compile_policy, exclude, principal_policies
from labkit.errors import AwsError, MalformedPolicyDocument
from labkit.policy import Policy, condition_keys, simulate

__all__ = ["simulate_custom_policy", "simulate_principal_policy", "get_context_keys_for_custom_policy",
           "get_context_keys_for_principal_policy", "SOURCE_POLICY_TYPES"]

#: SourcePolicyType as IAM writes it in MatchedStatements. botocore's model lists user, group,
#: role, aws-managed, user-managed, resource and none, but IAM answers "IAM Policy" for every
#: identity-based policy (inline, managed, PolicyInputList, permissions boundary) and
#: "Resource Policy" for the ResourcePolicy, so labkit does too.
SOURCE_POLICY_TYPES = {"resource": "Resource Policy"}
_IDENTITY_SOURCE = "IAM Policy"
_DEFAULT_ITEMS, _MAX_ITEMS = 100, 1000
_MARKER_PREFIX = "labkit-simulation:"


@contextmanager
def _aws_errors() -> Iterator[None]:
    """Answer labkit's AWS-shaped errors (InvalidInput, MalformedPolicyDocument...) as the API would."""
    try:
        yield
    except ApiError:
        raise
    except AwsError as error:
        raise ApiError(error.code, error.message, status=404 if error.code == "NoSuchEntity" else 400) from None


def _compile_inputs(documents: Sequence[str] | None, label: str, policy_type: str) -> list[Policy]:
    return [_compile(text, f"{label}.{number}", policy_type) for number, text in enumerate(documents or (), 1)]


def _compile(text: str, policy_id: str, policy_type: str) -> Policy:
    try:
        return compile_policy(text, policy_id, policy_type)
    except MalformedPolicyDocument as error:
        raise ApiError("MalformedPolicyDocument", f"{policy_id}: {error.message}") from None


def _boundary_inputs(params: dict[str, Any]) -> list[Policy]:
    documents = params.get("PermissionsBoundaryPolicyInputList") or ()
    if len(documents) > 1:
        raise ApiError("InvalidInput", "PermissionsBoundaryPolicyInputList accepts only one permissions boundary: "
                                       f"got {len(documents)}. An IAM entity has one permissions boundary at a time.")
    return _compile_inputs(documents, "PermissionsBoundaryPolicyInputList", "user-managed")


def _organization_inputs(levels: Sequence[dict[str, Any]] | None) -> list[list[Policy]]:
    compiled = []
    for number, level in enumerate(levels or (), 1):
        documents = level.get("ServiceControlPolicyInputList") or ()
        if not documents:
            raise ApiError("InvalidInput", f"OrderedOrganizationPolicyInputList.{number} must contain at least one "
                                           "service control policy")
        compiled.append(_compile_inputs(documents, f"OrderedOrganizationPolicyInputList.{number}", "none"))
    return compiled


def _caller(arn: str | None) -> str | None:
    """The simulated caller: a group cannot make requests, so a group ARN leaves the caller unspecified."""
    return None if arn is None or _resource_part(arn).startswith("group/") else arn


def _resource_part(arn: str) -> str:
    return arn.split(":", 5)[-1]


def _arn_template(resources: Sequence[str]) -> Callable[[str], str | None]:
    """EvalResourceName for an action: the ARN template of its resource type that the simulated ARNs name."""
    from labkit.policy import catalog

    concrete = [arn for arn in resources if arn != "*"]

    def template(action: str) -> str | None:
        types = catalog.action_resource_types(action)
        for strict in (True, False):
            for arn in concrete:
                for rtype in types:
                    if rtype.matches(arn, strict=strict):
                        return rtype.arn
        return types[0].arn if len(types) == 1 else None

    return template


def _statements(entries: list[dict[str, Any]], hidden: set[str]) -> list[dict[str, Any]]:
    return [{**entry, "SourcePolicyType": SOURCE_POLICY_TYPES.get(entry["SourcePolicyType"], _IDENTITY_SOURCE)}
            for entry in entries if entry["SourcePolicyId"] not in hidden]


def _as_aws(result: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """MatchedStatements as IAM reports them: its SourcePolicyType words, and no SCP statements."""
    result = dict(result, MatchedStatements=_statements(result["MatchedStatements"], hidden))
    if "ResourceSpecificResults" in result:
        result["ResourceSpecificResults"] = [dict(r, MatchedStatements=_statements(r["MatchedStatements"], hidden))
                                             for r in result["ResourceSpecificResults"]]
    return result


def _run(params: dict[str, Any], *, identity: list[Policy], boundaries: list[Policy], caller: str | None,
         scps: list[list[Policy]] | None = None) -> list[dict[str, Any]]:
    resource_policy = None
    if params.get("ResourcePolicy") is not None:
        if caller is not None and _resource_part(caller).startswith("role/"):
            raise ApiError("InvalidInput", "Simulation of resource-based policies isn't supported for IAM roles.")
        resource_policy = _compile(params["ResourcePolicy"], "ResourcePolicy", "resource")
    resources = params.get("ResourceArns") or None
    results = simulate(
        params["ActionNames"],
        policies=identity,
        resource_arns=resources,
        resource_policy=resource_policy,
        resource_owner=params.get("ResourceOwner"),
        caller_arn=caller,
        context_entries=params.get("ContextEntries") or (),
        permissions_boundaries=boundaries,
        scps=scps or (),
        resource_handling_option=params.get("ResourceHandlingOption"),
        arn_template=_arn_template(resources or ()),
    )
    # MatchedStatements never lists SCP statements (botocore's EvaluationResult documentation).
    hidden = {policy.policy_id for level in scps or () for policy in level if policy.policy_id}
    return [_as_aws(result, hidden) for result in results]


def _page(results: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """One page of EvaluationResults, for MaxItems and Marker."""
    limit = params.get("MaxItems", _DEFAULT_ITEMS)
    if limit > _MAX_ITEMS:
        raise ApiError("ValidationError", f"1 validation error detected: Value '{limit}' at 'maxItems' failed to "
                                          f"satisfy constraint: Member must have value less than or equal to {_MAX_ITEMS}")
    start = _offset(params["Marker"]) if "Marker" in params else 0
    if start > len(results):
        raise ApiError("InvalidInput", "Invalid Marker: it does not belong to this simulation. Pass the Marker "
                                       "from the previous response of the same request.")
    end = start + limit
    body: dict[str, Any] = {"EvaluationResults": results[start:end], "IsTruncated": end < len(results)}
    if end < len(results):
        body["Marker"] = base64.urlsafe_b64encode(f"{_MARKER_PREFIX}{end}".encode()).decode("ascii")
    return body


def _offset(marker: str) -> int:
    try:
        text = base64.urlsafe_b64decode(marker.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    number = text[len(_MARKER_PREFIX):] if text.startswith(_MARKER_PREFIX) else ""
    if not number.isdigit():
        raise ApiError("InvalidInput", "Invalid Marker: pass the Marker from the previous response unchanged.")
    return int(number)


def _principal(call: Any, lab: Any) -> Principal:
    """PolicySourceArn's policies, read in the caller's account (a principal elsewhere is InvalidInput)."""
    account = getattr(call.state.get("caller"), "account_id", None)
    return principal_policies(lab, call.params["PolicySourceArn"], account_id=account)


@api("iam", "SimulateCustomPolicy")
def simulate_custom_policy(call: Any, lab: Any) -> dict[str, Any]:
    """PolicyInputList (and optionally a boundary, SCP levels and a resource policy) against ActionNames."""
    params = call.params
    with _aws_errors():
        identity = _compile_inputs(params.get("PolicyInputList"), "PolicyInputList", "user")
        boundaries = _boundary_inputs(params)
        scps = _organization_inputs(params.get("OrderedOrganizationPolicyInputList"))
        results = _run(params, identity=identity, boundaries=boundaries, scps=scps,
                       caller=_caller(params.get("CallerArn")))
        return _page(results, params)


@api("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(call: Any, lab: Any) -> dict[str, Any]:
    """The policies of the user, group or role PolicySourceArn (plus PolicyInputList) against ActionNames.

    PermissionsBoundaryPolicyInputList replaces the principal's own permissions boundary.
    """
    params = call.params
    with _aws_errors():
        principal = exclude(_principal(call, lab), params.get("PolicyExclusionList") or ())
        identity = [source.policy for source in principal.policies]
        identity += _compile_inputs(params.get("PolicyInputList"), "PolicyInputList", "user")
        boundaries = _boundary_inputs(params)
        if not boundaries and principal.boundary is not None:
            boundaries = [principal.boundary.policy]
        caller = _caller(params.get("CallerArn") or principal.arn)
        results = _run(params, identity=identity, boundaries=boundaries, caller=caller)
        return _page(results, params)


@api("iam", "GetContextKeysForCustomPolicy")
def get_context_keys_for_custom_policy(call: Any, lab: Any) -> dict[str, Any]:
    """The condition keys (and policy-variable keys) the given policies read, each once."""
    with _aws_errors():
        policies = _compile_inputs(call.params.get("PolicyInputList"), "PolicyInputList", "user")
        return {"ContextKeyNames": condition_keys(tuple(policies))}


@api("iam", "GetContextKeysForPrincipalPolicy")
def get_context_keys_for_principal_policy(call: Any, lab: Any) -> dict[str, Any]:
    """The keys read by the principal's policies (including its permissions boundary) and PolicyInputList."""
    params = call.params
    with _aws_errors():
        principal = _principal(call, lab)
        policies = [source.policy for source in principal.policies]
        if principal.boundary is not None:
            policies.append(principal.boundary.policy)
        policies += _compile_inputs(params.get("PolicyInputList"), "PolicyInputList", "user")
        return {"ContextKeyNames": condition_keys(tuple(policies))}
