"""The slow, thorough pass behind a Decision's explanation: every statement of every layer, and
what change would allow a denied request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit.policy.decision import Inputs, MatchedStatement, Remedy, Trace
from labkit.policy.document import statement_keys
from labkit.policy.engine import FREE_ACTIONS, applicable
from labkit.policy.principals import FEDERATED_USER, GRANT_NAMES, NONE, ROOT
from labkit.policy.request import Request

if TYPE_CHECKING:
    from labkit.policy.decision import Decision

__all__ = ["trace", "remedy"]


def trace(request: Request, inputs: Inputs) -> Trace:
    """Walk every applicable policy; record matched statements and missing context keys."""
    who, action_l = request.who, request.action_l
    scp_on, rcp_on, boundary_on = applicable(request, inputs)
    layers = []
    if scp_on:
        layers += [("scp", policy, level) for level, policies in enumerate(inputs.scps) for policy in policies]
    if rcp_on:
        layers += [("rcp", policy, level) for level, policies in enumerate(inputs.rcps) for policy in policies]
    if inputs.resource is not None:
        layers.append(("resource", inputs.resource, None))
    if who.has_identity:
        layers += [("identity", policy, None) for policy in inputs.identity]
        if boundary_on:
            layers += [("boundary", policy, None) for policy in inputs.boundaries]
        if inputs.session is not None:
            layers += [("session", policy, None) for policy in inputs.session]

    matched: list[MatchedStatement] = []
    missing: dict[str, dict[str, str]] = {}
    for layer, policy, level in layers:
        for statement in policy.statements:
            if not statement.matches_action(action_l):
                continue
            grant = None
            if layer == "resource":
                strength = statement.grant(who)
                if strength == NONE:
                    continue
                grant = GRANT_NAMES[strength]
            resource_ok = statement.resource_test is None or statement.resource_test(request)
            absent = [k for k in (statement_keys(statement) if resource_ok else statement.resource_keys)
                      if not request.has(k.lower())]
            for key in absent:
                missing.setdefault(layer, {}).setdefault(key.lower(), key)
            if resource_ok and all(condition(request) for condition in statement.conditions):
                matched.append(MatchedStatement(policy.policy_id, policy.policy_type, statement.sid, statement.index,
                                                statement.effect, layer, grant, level, policy, statement))

    def says(layer: str, level: int | None = None) -> tuple[bool, bool]:
        hits = [m for m in matched if m.layer == layer and (level is None or m.level == level)]
        return any(m.effect == "Deny" for m in hits), any(m.effect == "Allow" for m in hits)

    def allowed(layer: str) -> bool:
        deny, allow = says(layer)
        return allow and not deny

    def levels_allow(layer: str, levels: tuple) -> bool:
        return not says(layer)[0] and all(says(layer, i)[1] for i in range(len(levels)))

    grants = [m.grant for m in matched if m.layer == "resource" and m.effect == "Allow"]
    best = max(grants, key=("account", "capped", "direct").index) if grants else None
    cross = request.cross
    return Trace(
        statements=tuple(matched),
        missing={layer: tuple(keys.values()) for layer, keys in missing.items()},
        identity_allowed=(who.kind == ROOT and not says("identity")[0]) or allowed("identity") if who.has_identity else None,
        resource_grant=best,
        boundary_allowed=allowed("boundary") if boundary_on else None,
        session_allowed=allowed("session") if inputs.session is not None and who.has_identity else None,
        organizations_allowed=(levels_allow("scp", inputs.scps) if scp_on else True) if inputs.scps else None,
        rcp_allowed=(levels_allow("rcp", inputs.rcps) if rcp_on else True) if inputs.rcps else None,
        cross_account=cross,
        notes=tuple(_notes(request, inputs, scp_on, rcp_on, best, cross)),
    )


def _notes(request: Request, inputs: Inputs, scp_on: bool, rcp_on: bool, grant: str | None, cross: bool) -> list[str]:
    who, notes = request.who, []
    if who.has_identity and request.action_l in {action.lower() for action in FREE_ACTIONS}:
        notes.append(f"{request.action} needs no permission: it is allowed even if a policy denies it")
    if inputs.scps and not scp_on:
        why = ("the caller is a service-linked role" if who.slr else
               "the caller is in the management account" if who.has_identity else "the caller is not an IAM principal")
        notes.append(f"SCPs do not apply: {why}")
    if inputs.rcps and not rcp_on:
        why = "the caller is a service-linked role" if who.slr else "the resource is in the management account"
        notes.append(f"RCPs do not apply: {why}")
    if cross:
        notes.append(f"cross-account request (caller in {who.account}, resource in {request.resource_account}): "
                     "an identity-based policy and the resource-based policy must both allow")
    elif grant == "direct" and who.has_identity:
        notes.append("the resource-based policy names the caller itself, so implicit denies in identity-based "
                     "policies, boundaries and session policies do not limit it")
    elif grant == "capped":
        notes.append("the resource-based policy names the role behind the session (or the user who federated): "
                     "boundaries and session policies still limit it")
    if request.strict and inputs.resource is not None:
        notes.append("role trust policies and KMS key policies must allow the caller themselves")
    if who.kind == FEDERATED_USER and inputs.session is None:
        notes.append("a federated user session without a session policy gets no permissions from identity policies")
    if who.kind == ROOT:
        notes.append("the account root user has full access unless a policy denies it or an SCP does not allow it")
    return notes


# -- What would allow it ---------------------------------------------------------------------------
# AWS's simulator reports the matched statements, the missing context keys and whether the boundary
# and Organizations allowed (access_policies_testing-policies.md); it does not say what to change.
# The steps follow reference_policies_evaluation-logic.md: an explicit deny is final, so only the
# denying statement's owner can help; an implicit deny names the first layer that lacked an allow.

_TITLES = {"identity": "identity-based policy", "resource": "resource-based policy", "boundary": "permissions boundary",
           "scp": "SCP", "rcp": "RCP", "session": "session policy"}
_OWNER_FIX = {
    "identity": "remove or narrow that statement in the identity-based policy",
    "boundary": "remove or narrow that statement in the permissions boundary (or attach another boundary)",
    "session": "pass a session policy without that statement when the session is created",
    "resource": "remove or narrow that statement in the resource-based policy: no identity change helps",
    "scp": "no identity change helps: the SCP must change (or the account move out from under it)",
    "rcp": "no identity or resource-based policy change helps: the RCP must change",
}


def remedy(decision: Decision) -> Remedy:
    """The layer that denied ``decision`` and the smallest change that would allow it."""
    request, inputs, layer, found = decision.request, decision.inputs, decision.decided_by, decision.trace
    if decision.result == "explicitDeny":
        deny = next((m for m in found.statements if m.effect == "Deny" and m.layer == layer), None)
        where = f" at level {deny.level}" if deny is not None and deny.level is not None else ""
        named = "" if deny is None else f" {deny.policy_id or '(unnamed policy)'} statement {deny.label}"
        change = (f"the {_TITLES[layer]}{where}{named} denies {request.action} on {request.resource}: "
                  f"{_OWNER_FIX[layer]}")
        return Remedy(layer, "explicitDeny", change, layer in ("identity", "boundary", "session"), statement=deny)
    change, helps = _implicit(request, inputs, layer, found)
    failed = tuple(_failed_conditions(request, inputs, layer))
    if failed:
        change = f"meet the condition of the {_TITLES[layer]}'s Allow that did not apply, or {change}"
    return Remedy(layer, "implicitDeny", change, helps, failed)


def _implicit(request: Request, inputs: Inputs, layer: str, found: Trace) -> tuple[str, bool]:
    who, action = request.who, request.action
    wanted = f"{action} on {request.resource}"
    if layer == "identity":
        change = f"add {wanted} to an identity-based policy"
        if found.cross_account and found.resource_grant is None:
            change += (f"; the request is cross-account, so the resource's policy must also name the caller "
                       f"or its account ({who.account})")
        return change, True
    if layer == "boundary":
        return f"the permissions boundary does not allow {action}: add {wanted} to the boundary", True
    if layer == "session":
        if inputs.session is None and who.kind == FEDERATED_USER:
            return ("a federated user session without a session policy has no permissions: pass a session "
                    f"policy that allows {wanted}"), True
        return f"the session policy does not allow {action}: pass a session policy that allows {wanted}", True
    if layer in ("scp", "rcp"):
        org_levels = inputs.scps if layer == "scp" else inputs.rcps
        allowing = {m.level for m in found.statements if m.layer == layer and m.effect == "Allow"}
        level = next((i for i in range(len(org_levels)) if i not in allowing), 0)
        ids = ", ".join(p.policy_id or "(unnamed policy)" for p in org_levels[level]) if org_levels else ""
        fix = "no identity change helps" if layer == "scp" else "no identity or resource-based policy change helps"
        return (f"no {layer.upper()} at level {level} ({ids}) allows {action}, and every level must: a "
                f"{layer.upper()} attached at level {level} must allow it; {fix}"), False
    # The resource's side: a policy on the resource must allow.
    if not who.has_identity:
        return ("only a resource-based policy can allow a caller without an identity: the resource's policy "
                f"must allow {request.principal or 'the caller'} {wanted}"), False
    if request.strict:
        if request.action_l.startswith("kms:"):
            account = request.resource_account or who.account
            return ("the key policy must allow the caller or delegate to the account (Principal "
                    f"arn:aws:iam::{account}:root, then an identity-based policy allows {action})"), False
        return f"the role's trust policy must allow the caller ({request.principal}) {action}", False
    if found.cross_account:
        return (f"cross-account request: the resource's policy (account {request.resource_account}) must allow "
                f"{action} to the caller or its account ({who.account}); the caller's identity-based policy must allow "
                f"it too ({'it does' if found.identity_allowed else 'it does not yet'})"), False
    return f"the resource-based policy must allow the caller {wanted}", False


def _layer_policies(inputs: Inputs, layer: str) -> list:
    if layer == "identity":
        return list(inputs.identity)
    if layer == "boundary":
        return list(inputs.boundaries)
    if layer == "session":
        return list(inputs.session or ())
    if layer == "resource":
        return [] if inputs.resource is None else [inputs.resource]
    return [policy for level in (inputs.scps if layer == "scp" else inputs.rcps) for policy in level]


def _failed_conditions(request: Request, inputs: Inputs, layer: str) -> list[str]:
    """Conditions that kept an Allow of the denying layer (matching action, resource and caller) from applying."""
    out: list[str] = []
    for policy in _layer_policies(inputs, layer):
        for statement in policy.statements:
            if statement.effect != "Allow" or not statement.matches_action(request.action_l):
                continue
            if layer == "resource" and statement.grant(request.who) == NONE:
                continue
            if statement.resource_test is not None and not statement.resource_test(request):
                continue
            where = f"{policy.policy_id or '(unnamed policy)'} statement {statement.sid or f'#{statement.index}'}"
            for condition in statement.conditions:
                if condition(request):
                    continue
                if condition.operator.lower() != "null" and not request.has(condition.key_l):
                    out.append(f"{where}: the request has no {condition.key} ({condition.operator} needs it)")
                else:
                    out.append(f"{where}: {condition.key} does not satisfy {condition.operator} "
                               f"{', '.join(condition.values)}")
    return out
