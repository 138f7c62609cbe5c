"""Properties the evaluation logic must have for any policies and request (hypothesis)."""

from __future__ import annotations

import random
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.policy import Policy, Request, evaluate
from labkit.policy.decision import Inputs
from labkit.policy.engine import decide
from labkit.policy.policyset import EMPTY, policy_set

A, B = "111122223333", "444455556666"
PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "ec2:RunInstances", "iam:CreateUser"]
ACTION_PATTERNS = ACTIONS + ["s3:*", "*", "s3:Get*", "s3:*Object", "?3:GetObject", "iam:*User", "ec2:Run*"]
RESOURCES = ["arn:aws:s3:::b/k", "arn:aws:s3:::b/secret", "arn:aws:s3:::c", "*", f"arn:aws:ec2:us-east-1:{A}:instance/i-1",
             f"arn:aws:iam::{A}:user/alice", "arn:aws:s3:::b/alice/x"]
RESOURCE_PATTERNS = RESOURCES + ["arn:aws:s3:::b/*", "arn:aws:s3:::*", "arn:aws:ec2:*:*:instance/*", "arn:aws:s3:::b/${aws:username}/*",
                                 f"arn:aws:iam::{A}:user/*", "arn:aws:s3:::?"]
PRINCIPALS = [f"arn:aws:iam::{A}:user/alice", f"arn:aws:sts::{A}:assumed-role/Dev/s1", f"arn:aws:sts::{A}:federated-user/fed",
              f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:user/bob", "ec2.amazonaws.com", "anonymous",
              f"arn:aws:sts::{A}:assumed-role/AWSServiceRoleForX/s", None]
NAMED = ["*", A, f"arn:aws:iam::{A}:root", f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{A}:role/Dev",
         f"arn:aws:sts::{A}:assumed-role/Dev/s1", f"arn:aws:sts::{A}:federated-user/fed", B, f"arn:aws:iam::{B}:user/bob"]
CONDITIONS = [
    {"StringEquals": {"aws:PrincipalTag/team": "red"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}},
    {"StringLikeIfExists": {"s3:prefix": "home/*"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"NumericLessThan": {"s3:max-keys": "10"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["a*"]}},
    {"Null": {"aws:TokenIssueTime": "true"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:*"}},
]
_CONTEXT_VALUES = {
    "aws:PrincipalTag/team": ["red", "blue", "green"],
    "s3:prefix": ["home/x", "other"],
    "aws:SecureTransport": [True, False],
    "aws:SourceIp": ["203.0.113.7", "198.51.100.1"],
    "s3:max-keys": [5, 15],
    "aws:TagKeys": [[], ["a"], ["a", "b"], ["c", "a"]],
    "aws:TokenIssueTime": ["2020-01-01T00:00:00Z"],
}
_CONTEXT_RNG = random.Random(42)
CONTEXTS = st.sampled_from([
    {key: _CONTEXT_RNG.choice(values) for key, values in _CONTEXT_VALUES.items() if _CONTEXT_RNG.random() < 0.5}
    for _ in range(64)])


def _statement(rng: random.Random, *, principal: bool, effect: str | None = None) -> dict:
    statement = {"Effect": effect or rng.choice(["Allow", "Deny"])}
    statement["NotAction" if rng.random() < 0.15 else "Action"] = rng.sample(ACTION_PATTERNS, rng.randint(1, 3))
    statement["NotResource" if rng.random() < 0.15 else "Resource"] = rng.sample(RESOURCE_PATTERNS, rng.randint(1, 3))
    if rng.random() < 0.5:
        statement["Condition"] = rng.choice(CONDITIONS)
    if principal:
        names = rng.sample(NAMED, rng.randint(1, 3))
        statement["NotPrincipal" if rng.random() < 0.15 else "Principal"] = "*" if "*" in names else {"AWS": names}
    return statement


# Hypothesis draws statements from fixed pools (made once, deterministically) so that a scenario
# costs a few draws and its policies compile once: the suite stays fast at 200 examples a test.
_RNG = random.Random(20231017)
POOLS = {
    (False, None): [_statement(_RNG, principal=False) for _ in range(400)],
    (True, None): [_statement(_RNG, principal=True) for _ in range(200)],
    (False, "Allow"): [_statement(_RNG, principal=False, effect="Allow") for _ in range(200)],
}


@lru_cache(maxsize=None)
def _compiled(principal: bool, effect: str | None, picks: tuple[int, ...]) -> Policy:
    pool = POOLS[(principal, effect)]
    return Policy.from_dict({"Version": "2012-10-17", "Statement": [pool[i] for i in picks]})


def policies(*, principal=False, min_size=0, max_size=3, effect=None):
    size = len(POOLS[(principal, effect)])
    one = st.lists(st.integers(0, size - 1), min_size=1, max_size=4).map(
        lambda picks: _compiled(principal, effect, tuple(picks)))
    return st.lists(one, min_size=min_size, max_size=max_size)


@st.composite
def scenarios(draw):
    principal = draw(st.sampled_from(PRINCIPALS))
    options = {"role_path": "/aws-service-role/x.amazonaws.com/"} if "AWSServiceRole" in (principal or "") else {}
    request = Request(draw(st.sampled_from(ACTIONS)), draw(st.sampled_from(RESOURCES)), principal,
                      resource_account=draw(st.sampled_from([None, A, B])), context=draw(CONTEXTS), **options)
    layers = {"identity_policies": draw(policies())}
    if draw(st.booleans()):
        layers["resource_policy"] = draw(policies(principal=True, min_size=1, max_size=1))[0]
    if draw(st.booleans()):
        layers["permissions_boundaries"] = draw(policies(min_size=1, max_size=1))
    if draw(st.booleans()):
        layers["session_policy"] = draw(policies(min_size=1, max_size=1))[0]
    if draw(st.booleans()):
        layers["scps"] = draw(st.lists(policies(min_size=1, max_size=2), min_size=1, max_size=3))
    if draw(st.booleans()):
        layers["rcps"] = draw(st.lists(policies(min_size=1, max_size=2), min_size=1, max_size=2))
    if draw(st.booleans()):
        layers["management_account"] = draw(st.sampled_from([A, B]))
    return request, layers


DENY_ALL = Policy.from_dict({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}})


@PROPERTIES
@given(scenarios(), st.sampled_from(["identity", "resource", "boundary", "session", "scp", "rcp"]))
def test_an_explicit_deny_in_any_applicable_policy_always_wins(scenario, layer):
    request, layers = scenario
    who = request.who
    if layer == "resource":
        layers["resource_policy"] = DENY_ALL  # Principal "*": applies to every caller
    elif layer in ("identity", "boundary", "session") and who.has_identity and not (layer == "boundary" and who.kind == 4):
        key = {"identity": "identity_policies", "boundary": "permissions_boundaries"}.get(layer)
        if key:
            layers[key] = list(layers.get(key, [])) + [DENY_ALL]
        else:
            layers["session_policy"] = DENY_ALL
    elif layer == "scp" and who.has_identity and not who.slr and layers.get("management_account") != who.account:
        layers["scps"] = [list(level) for level in layers.get("scps", [[]])]
        layers["scps"][-1].append(DENY_ALL)
    elif layer == "rcp" and not who.slr and layers.get("management_account") != request.resource_account:
        layers["rcps"] = [list(level) for level in layers.get("rcps", [[]])]
        layers["rcps"][0].append(DENY_ALL)
    else:
        return
    assert evaluate(request, **layers).result == "explicitDeny"


@PROPERTIES
@given(scenarios(), policies(min_size=1, max_size=1, effect="Allow"), st.booleans())
def test_adding_an_allow_never_takes_a_permission_away(scenario, extra, to_resource):
    request, layers = scenario
    before = evaluate(request, **layers)
    if to_resource:
        resource = layers.get("resource_policy")
        statements = (resource.document["Statement"] if resource else []) + [
            dict(s, Principal="*") for s in extra[0].document["Statement"]]
        layers["resource_policy"] = Policy.from_dict({"Version": "2012-10-17", "Statement": statements})
    else:
        layers["identity_policies"] = list(layers["identity_policies"]) + extra
    after = evaluate(request, **layers)
    if before.allowed:
        assert after.allowed
    if before.result == "explicitDeny":
        assert after.result == "explicitDeny"


@PROPERTIES
@given(scenarios(), st.sampled_from(["permissions_boundaries", "session_policy", "scps", "rcps"]))
def test_boundaries_scps_rcps_and_session_policies_only_take_away(scenario, layer):
    request, layers = scenario
    if layer == "session_policy" and request.who.kind == 2:
        return  # a federated user session needs its session policy to have any identity permissions
    with_limit = evaluate(request, **layers)
    without = evaluate(request, **{k: v for k, v in layers.items() if k != layer})
    if with_limit.allowed:
        assert without.allowed


@PROPERTIES
@given(scenarios())
def test_the_explanation_agrees_with_the_decision(scenario):
    request, layers = scenario
    decision = evaluate(request, **layers)
    denies = [s for s in decision.matched_statements if s.effect == "Deny"]
    assert (decision.result == "explicitDeny") == bool(denies)
    if decision.allowed:
        assert decision.deciding_statements or request.who.kind == 4  # the root user needs no statement


@PROPERTIES
@given(scenarios())
def test_the_identity_only_shortcut_decides_as_the_general_logic(scenario):
    request, layers = scenario
    identity = policy_set(layers["identity_policies"])
    fast = evaluate(request, identity_policies=layers["identity_policies"])
    general = decide(request, tuple.__new__(Inputs, (identity, None, EMPTY, (), (), None, None)))
    assert (fast.result, fast.decided_by) == general
