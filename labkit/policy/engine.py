"""The evaluation logic: which layers apply to a request, and the decision they reach together."""

from __future__ import annotations

from typing import Any

from labkit.errors import InvalidInput
from labkit.policy.decision import Decision, Inputs
from labkit.policy.document import Policy
from labkit.policy.policyset import EMPTY, PolicySet, as_policy, levels, policy_set
from labkit.policy.principals import CAPPED, DIRECT, FEDERATED_USER, NONE, ROOT
from labkit.policy.request import Request

__all__ = ["evaluate", "decide", "applicable", "FREE_ACTIONS"]

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"
#: Actions any caller with credentials may take, whatever its policies say: "No permissions are
#: required to perform this operation. If an administrator attaches a policy to your identity that
#: explicitly denies access to the sts:GetCallerIdentity action, you can still perform this
#: operation" (AWS STS API Reference, GetCallerIdentity); "No permissions are required for a user to
#: call GetSessionToken ... you cannot prevent IAM users from calling GetSessionToken"
#: (id_credentials_temp_control-access_enable-create.md).
FREE_ACTIONS = frozenset({"sts:GetCallerIdentity", "sts:GetSessionToken"})
_FREE = frozenset(action.lower() for action in FREE_ACTIONS)


def _account(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value.startswith("arn:") and value.endswith(":root"):
            return value.split(":")[4]
        return value
    raise InvalidInput("management_account must be an account id")


def evaluate(
    request: Request,
    *,
    identity_policies: Any = (),
    resource_policy: Any = None,
    permissions_boundaries: Any = (),
    scps: Any = (),
    rcps: Any = (),
    session_policy: Any = None,
    management_account: str | None = None,
) -> Decision:
    """Decide ``request`` as AWS would, given every policy that applies to it.

    Policies may be :class:`Policy` objects, JSON strings or dicts. ``scps`` and ``rcps`` list the
    organization's levels from the root to the account, each level the policies attached there;
    every level must allow. An empty ``scps``/``rcps`` means none apply. SCPs do not apply to
    principals of ``management_account``, RCPs not to its resources, neither to service-linked
    roles. The returned :class:`Decision` explains itself on demand.
    """
    if type(request) is not Request and not isinstance(request, Request):
        raise InvalidInput(f"evaluate needs a Request, not {type(request).__name__}")
    identity = policy_set(identity_policies)
    if (resource_policy is None and session_policy is None and permissions_boundaries is _NOTHING
            and scps is _NOTHING and rcps is _NOTHING):
        # Only identity-based policies: the common case, decided without the general machinery.
        inputs = identity.alone
        if inputs is None:
            inputs = identity.alone = _new_inputs(Inputs, (identity, None, EMPTY, (), (), None, None))
        result, layer = _identity_only(request, identity)
        return Decision(result, layer, request, inputs)
    inputs = _new_inputs(Inputs, (
        identity,
        None if resource_policy is None else as_policy(resource_policy),
        EMPTY if permissions_boundaries is _NOTHING else policy_set(permissions_boundaries),
        _NOTHING if scps is _NOTHING else levels(scps),
        _NOTHING if rcps is _NOTHING else levels(rcps),
        None if session_policy is None else policy_set((as_policy(session_policy),)),
        None if management_account is None else _account(management_account),
    ))
    result, layer = decide(request, inputs)
    return Decision(result, layer, request, inputs)


def _identity_only(request: Request, identity: PolicySet) -> tuple[str, str]:
    """:func:`decide` when nothing but identity-based policies apply (same answers, fewer steps)."""
    who = request.who
    if not who.has_identity:
        return IMPLICIT_DENY, "resource"
    action_l = request.action_l
    if action_l in _FREE:
        return ALLOWED, "identity"
    denies, allows = identity._index.get(action_l) or identity.candidates(action_l)
    for statement in denies:
        check = statement.check
        if check is None or check(request):
            return EXPLICIT_DENY, "identity"
    if request.strict:  # a trust or key policy must allow, and none was given
        return IMPLICIT_DENY, "resource"
    kind = who.kind
    if kind == ROOT:
        if request.cross:
            return IMPLICIT_DENY, "resource"
        return ALLOWED, "identity"
    for statement in allows:
        check = statement.check
        if check is None or check(request):
            if kind == FEDERATED_USER:  # a federated user session without a session policy
                return IMPLICIT_DENY, "session"
            if request.cross:
                return IMPLICIT_DENY, "resource"  # cross-account, and no resource-based policy
            return ALLOWED, "identity"
    return IMPLICIT_DENY, "identity"


_NOTHING = ()
_new_inputs = tuple.__new__


def _every_level_allows(org_levels: tuple[PolicySet, ...], request: Request) -> bool:
    for level in org_levels:
        if not level.allows(request):
            return False
    return True


def _resource_denies(policy: Policy, request: Request, action_l: str) -> bool:
    who = request.who
    for statement in policy.candidates(action_l)[0]:
        if statement.grant(who) != NONE and statement.applies(request):
            return True
    return False


def _resource_grant(policy: Policy, request: Request, action_l: str) -> int:
    """The strongest way a matching Allow in the resource-based policy reaches the caller."""
    who, best = request.who, NONE
    for statement in policy.candidates(action_l)[1]:
        grant = statement.grant(who)
        if grant > best and statement.applies(request):
            best = grant
            if best == DIRECT:
                break
    return best


def applicable(request: Request, inputs: Inputs) -> tuple[bool, bool, bool]:
    """Whether SCPs, RCPs and permissions boundaries apply to this request."""
    who, mgmt = request.who, inputs.management_account
    scp_on = bool(inputs.scps) and who.has_identity and not who.slr and (mgmt is None or who.account != mgmt)
    rcp_on = bool(inputs.rcps) and not who.slr and (mgmt is None or request.resource_account != mgmt)
    boundary_on = bool(inputs.boundaries) and who.has_identity and who.kind != ROOT
    return scp_on, rcp_on, boundary_on


def decide(request: Request, inputs: Inputs) -> tuple[str, str]:
    """(result, deciding layer), following reference_policies_evaluation-logic.md and
    reference_policies_evaluation-logic-cross-account.md step by step."""
    who, action_l = request.who, request.action_l
    identity, resource, boundaries, scps, rcps, session, _ = inputs
    has_identity = who.has_identity
    if has_identity and action_l in _FREE:
        return ALLOWED, "identity"
    if scps or rcps or boundaries:
        scp_on, rcp_on, boundary_on = applicable(request, inputs)
    else:
        scp_on = rcp_on = boundary_on = False

    # 1. An explicit deny in any policy that applies is final.
    if scp_on and any(level.denies(request) for level in scps):
        return EXPLICIT_DENY, "scp"
    if rcp_on and any(level.denies(request) for level in rcps):
        return EXPLICIT_DENY, "rcp"
    if resource is not None and _resource_denies(resource, request, action_l):
        return EXPLICIT_DENY, "resource"
    if has_identity:
        if identity.denies(request):
            return EXPLICIT_DENY, "identity"
        if boundary_on and boundaries.denies(request):
            return EXPLICIT_DENY, "boundary"
        if session is not None and session.denies(request):
            return EXPLICIT_DENY, "session"

    # 2. Every level of SCPs (for the caller) and RCPs (for the resource) must allow.
    if scp_on and not _every_level_allows(scps, request):
        return IMPLICIT_DENY, "scp"
    if rcp_on and not _every_level_allows(rcps, request):
        return IMPLICIT_DENY, "rcp"

    # 3. Resource-based policy.
    grant = NONE if resource is None else _resource_grant(resource, request, action_l)
    if not has_identity:  # services, anonymous callers: only a resource-based policy can allow
        return (ALLOWED, "resource") if grant != NONE else (IMPLICIT_DENY, "resource")
    same_account = not request.cross
    if same_account and grant == DIRECT:
        return ALLOWED, "resource"

    # 4-6. Identity-based policies, capped by the boundary and the session policy.
    boundary_ok = not boundary_on or boundaries.allows(request)
    if session is not None:
        session_ok = session.allows(request)
    else:  # no session policy: a role session keeps its permissions, a federated user has none
        session_ok = who.kind != FEDERATED_USER
    if same_account:
        if grant == CAPPED:
            if boundary_ok and session_ok:
                return ALLOWED, "resource"
            return IMPLICIT_DENY, "boundary" if not boundary_ok else "session"
        if grant == NONE and request.strict:
            return IMPLICIT_DENY, "resource"
    if who.kind != ROOT and not identity.allows(request):
        return IMPLICIT_DENY, "identity"
    if not boundary_ok:
        return IMPLICIT_DENY, "boundary"
    if not session_ok:
        return IMPLICIT_DENY, "session"
    if not same_account:  # cross-account: the resource's account must allow too
        return (ALLOWED, "resource") if grant != NONE else (IMPLICIT_DENY, "resource")
    return ALLOWED, "identity"
