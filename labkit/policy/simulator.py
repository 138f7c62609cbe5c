"""The IAM policy simulator's answers (SimulateCustomPolicy / SimulatePrincipalPolicy and the
GetContextKeysFor*Policy APIs) as pure functions returning botocore-shaped data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from labkit.errors import InvalidInput, LabkitError
from labkit.policy.conditions import _address, _network, parse_date, parse_number
from labkit.policy.decision import Decision
from labkit.policy.document import Policy, statement_keys
from labkit.policy.engine import evaluate
from labkit.policy.policyset import as_policy, levels, policy_set
from labkit.policy.principals import FEDERATED_USER, SERVICE, SESSION, UNSPECIFIED, Who
from labkit.policy.request import Request, _arn_account

__all__ = ["simulate", "condition_keys", "CONTEXT_KEY_TYPES", "RESOURCE_HANDLING_OPTIONS"]

#: ContextKeyTypeEnum in botocore's iam service model.
CONTEXT_KEY_TYPES = ("string", "stringList", "numeric", "numericList", "boolean", "booleanList",
                     "ip", "ipList", "binary", "binaryList", "date", "dateList")
RESOURCE_HANDLING_OPTIONS = ("EC2-VPC-InstanceStore", "EC2-VPC-InstanceStore-Subnet", "EC2-VPC-EBS", "EC2-VPC-EBS-Subnet")
_SEVERITY = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}


def condition_keys(policy: Any, *more: Any) -> list[str]:
    """The condition keys the policies read, as written, each once (GetContextKeysFor*Policy).

    Keys used as policy variables (``${aws:username}``) count too, under Version 2012-10-17.
    """
    seen: dict[str, str] = {}
    for item in (policy, *more):
        for compiled in policy_set(item):
            for statement in compiled.statements:
                for key in statement_keys(statement):
                    seen.setdefault(key.lower(), key)
    return sorted(seen.values(), key=lambda k: (k.lower(), k))


def _check_value(kind: str, value: str) -> bool:
    base = kind[:-4] if kind.endswith("List") else kind
    if base == "numeric":
        return parse_number(value) is not None
    if base == "boolean":
        return value.lower() in ("true", "false")
    if base == "date":
        return parse_date(value) is not None
    if base == "ip":
        return _address(value) is not None or _network(value) is not None
    if base == "binary":
        import base64
        import binascii

        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
    return True


def _context(entries: Any) -> dict[str, list[str]]:
    if not isinstance(entries, Sequence) or isinstance(entries, (str, bytes)):
        raise InvalidInput("ContextEntries must be a list of {ContextKeyName, ContextKeyValues, ContextKeyType}")
    context: dict[str, list[str]] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise InvalidInput("each context entry must be a mapping")
        name, values, kind = entry.get("ContextKeyName"), entry.get("ContextKeyValues", []), entry.get("ContextKeyType")
        if not isinstance(name, str) or not name:
            raise InvalidInput("ContextKeyName must be a non-empty string")
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
            raise InvalidInput(f"ContextKeyValues for {name} must be a list of strings")
        if kind is not None and kind not in CONTEXT_KEY_TYPES:
            raise InvalidInput(f"ContextKeyType for {name} must be one of {', '.join(CONTEXT_KEY_TYPES)}")
        for value in values:
            if kind is not None and not _check_value(kind, value):
                raise InvalidInput(f"Invalid value {value!r} for context key {name} of type {kind}")
        context[name] = list(values)
    return context


def _owner(resource_owner: Any) -> str | None:
    if resource_owner is None:
        return None
    if isinstance(resource_owner, str):
        account = resource_owner.split(":")[4] if resource_owner.count(":") == 5 else resource_owner
        if len(account) == 12 and account.isascii() and account.isdigit():
            return account
    raise InvalidInput(f"ResourceOwner must be an account ARN such as arn:aws:iam::123456789012:root, got {resource_owner!r}")


def _tag(policies: Any, prefix: str) -> tuple[Policy, ...]:
    tagged = []
    for number, policy in enumerate(policy_set(policies), 1):
        if policy.policy_id is None:
            policy = policy.tagged(policy_id=f"{prefix}.{number}", policy_type=policy.policy_type)
        tagged.append(policy)
    return tuple(tagged)


def _statement_entry(match) -> dict:
    entry = {"SourcePolicyId": match.policy_id, "SourcePolicyType": match.policy_type or "none"}
    try:
        span = match.policy.statement_span(match.statement)
    except LabkitError:
        span = None
    if span is not None:
        # 1-based lines; columns of the statement's opening and closing braces, counted from 1, as
        # in a SimulateCustomPolicy answer for a policy in json.dumps layout (StartPosition.Column
        # 41 for the "{" after '..."Statement": [', EndPosition.Column at its "}").
        entry["StartPosition"] = {"Line": span.start.line, "Column": span.start.column + 1}
        entry["EndPosition"] = {"Line": span.end.line, "Column": span.end.column}
    return entry


def _sides(decision: Decision) -> dict[str, str]:
    """EvalDecisionDetails for a cross-account result: what each account's evaluation said."""
    trace = decision.trace
    denied = {m.layer for m in trace.statements if m.effect == "Deny"}
    if denied & {"identity", "boundary", "session", "scp"}:
        caller_side = "explicitDeny"
    elif trace.identity_allowed and trace.boundary_allowed is not False and trace.session_allowed is not False \
            and trace.organizations_allowed is not False:
        caller_side = "allowed"
    else:
        caller_side = "implicitDeny"
    if denied & {"resource", "rcp"}:
        resource_side = "explicitDeny"
    elif trace.resource_grant and trace.rcp_allowed is not False:
        resource_side = "allowed"
    else:
        resource_side = "implicitDeny"
    return {"IAM Policy": caller_side, "Resource Policy": resource_side}


def simulate(
    action_names: Sequence[str],
    *,
    policies: Any = (),
    resource_arns: Sequence[str] | None = None,
    resource_policy: Any = None,
    resource_owner: str | None = None,
    caller_arn: str | None = None,
    context_entries: Sequence[Mapping[str, Any]] = (),
    permissions_boundaries: Any = (),
    scps: Any = (),
    rcps: Any = (),
    management_account: str | None = None,
    resource_handling_option: str | None = None,
    arn_template: Callable[[str], str | None] | None = None,
) -> list[dict]:
    """The ``EvaluationResults`` of a SimulateCustomPolicy/SimulatePrincipalPolicy call.

    ``policies`` is PolicyInputList (Policy objects keep their policy_id/policy_type as
    SourcePolicyId/SourcePolicyType; others are named ``PolicyInputList.N``). ``scps`` is
    OrderedOrganizationPolicyInputList, root first. As botocore's model documents, there is one
    result per action: its EvalDecision is the most restrictive over the resources, each of
    which gets a ResourceSpecificResults entry; EvalResourceName is ``arn_template(action)``
    when given (the ARN template of the action's resource type), else ``"*"``.
    """
    if isinstance(action_names, str) or not isinstance(action_names, Sequence) or not action_names:
        raise InvalidInput("ActionNames must be a non-empty list of action names")
    for action in action_names:
        if not isinstance(action, str) or ":" not in action or "*" in action or "?" in action:
            raise InvalidInput(f"Invalid action name {action!r}: use service:Action, without wildcards")
    if resource_arns is not None and (isinstance(resource_arns, str) or not all(isinstance(r, str) and r for r in resource_arns)):
        raise InvalidInput("ResourceArns must be a list of ARNs")
    if resource_handling_option is not None and resource_handling_option not in RESOURCE_HANDLING_OPTIONS:
        raise InvalidInput(f"ResourceHandlingOption must be one of {', '.join(RESOURCE_HANDLING_OPTIONS)}")
    if resource_policy is not None and caller_arn is None:
        raise InvalidInput("CallerArn is required when a ResourcePolicy is included in the simulation")
    if caller_arn is not None and Who(caller_arn).kind in (SESSION, FEDERATED_USER, SERVICE):
        raise InvalidInput("CallerArn cannot be an assumed role, a federated user or a service principal")
    context = _context(context_entries)
    owner = _owner(resource_owner)
    identity = _tag(policies, "PolicyInputList")
    boundaries = _tag(permissions_boundaries, "PermissionsBoundaryPolicyInputList")
    resource = None
    if resource_policy is not None:
        resource = as_policy(resource_policy)
        if resource.policy_id is None:
            resource = resource.tagged(policy_id="ResourcePolicy", policy_type=resource.policy_type or "resource")
    org_levels, rcp_levels = levels(scps), levels(rcps)
    resources = list(resource_arns) if resource_arns else ["*"]

    results = []
    for action in action_names:
        decisions = []
        for arn in resources:
            request = Request(action, arn, UNSPECIFIED if caller_arn is None else caller_arn, resource_account=_arn_account(arn) or owner, context=context)
            decisions.append(evaluate(request, identity_policies=identity, resource_policy=resource,
                                      permissions_boundaries=boundaries, scps=org_levels, rcps=rcp_levels,
                                      management_account=management_account))
        results.append(_result(action, resources, decisions, resource_arns is not None, arn_template))
    return results


def _statements(decision: Decision) -> list[dict]:
    # MatchedStatements "doesn't include statements from service control policies" (botocore's
    # EvaluationResult documentation); labkit leaves out RCP statements the same way.
    return [_statement_entry(m) for m in decision.deciding_statements if m.layer not in ("scp", "rcp")]


def _missing(decision: Decision) -> list[str]:
    missing = decision.trace.missing
    seen: dict[str, str] = {}
    for layer in ("identity", "resource"):
        for key in missing.get(layer, ()):
            seen.setdefault(key.lower(), key)
    return sorted(seen.values(), key=lambda k: (k.lower(), k))


def _result(action: str, resources: list[str], decisions: list[Decision], specific: bool,
            arn_template: Callable[[str], str | None] | None) -> dict:
    worst = max((d.result for d in decisions), key=_SEVERITY.__getitem__)
    statements: list[dict] = []
    for decision in decisions:
        statements += [s for s in _statements(decision) if s not in statements]
    template = arn_template(action) if (arn_template is not None and specific) else None
    result: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": template if isinstance(template, str) and template else "*",
        "EvalDecision": worst,
        "MatchedStatements": statements,
        "MissingContextValues": sorted({k for d in decisions for k in _missing(d)}, key=lambda k: (k.lower(), k)),
    }
    organizations = [d.organizations_allowed for d in decisions]
    if any(value is not None for value in organizations):
        result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": all(v is not False for v in organizations)}
    boundaries = [d.boundary_allowed for d in decisions]
    if any(value is not None for value in boundaries):
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": all(v is not False for v in boundaries)}
    cross = [d for d in decisions if d.trace.cross_account]
    if cross:
        details: dict[str, str] = {}
        for decision in cross:
            for side, value in _sides(decision).items():
                if _SEVERITY[value] >= _SEVERITY.get(details.get(side, "allowed"), 0):
                    details[side] = value
        result["EvalDecisionDetails"] = details
    elif specific:
        result["EvalDecisionDetails"] = {}
    if specific:
        result["ResourceSpecificResults"] = [_specific(arn, d) for arn, d in zip(resources, decisions)]
    return result


def _specific(arn: str, decision: Decision) -> dict:
    entry: dict[str, Any] = {
        "EvalResourceName": arn,
        "EvalResourceDecision": decision.result,
        "MatchedStatements": _statements(decision),
        "MissingContextValues": _missing(decision),
    }
    if decision.trace.cross_account:
        entry["EvalDecisionDetails"] = _sides(decision)
    if decision.boundary_allowed is not None:
        entry["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": decision.boundary_allowed}
    return entry
