"""The slow, thorough pass behind a Decision's explanation: every statement of every layer."""

from __future__ import annotations

from labkit.policy.decision import Inputs, MatchedStatement, Trace
from labkit.policy.document import statement_keys
from labkit.policy.engine import applicable
from labkit.policy.principals import FEDERATED_USER, GRANT_NAMES, NONE, ROOT
from labkit.policy.request import Request

__all__ = ["trace"]


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
