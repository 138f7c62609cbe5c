"""Issue 9 behaviours decided by labkit.policy.evaluate: each test cites the page it follows."""

from __future__ import annotations

import pytest

from labkit.policy import Request, evaluate
from labkit.policy.principals import UNSPECIFIED

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/exampleuser"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/examplerole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/examplerole/examplerolesessionname"
FEDERATED = f"arn:aws:sts::{ACCOUNT}:federated-user/examplefed"
OBJECT = "arn:aws:s3:::example-bucket/report.csv"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_ALL = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
ALLOW_OTHER = doc({"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"})  # implicitly denies s3


def grant(principal, action="s3:GetObject", resource=OBJECT) -> dict:
    return doc({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource})


# -- sts:GetCallerIdentity needs no permission (STS API Reference, GetCallerIdentity) --------------

@pytest.mark.parametrize("caller", [USER, SESSION, FEDERATED, f"arn:aws:iam::{ACCOUNT}:root"])
def test_get_caller_identity__is_allowed_even_under_an_explicit_deny(caller):
    deny = doc({"Effect": "Deny", "Action": "sts:*", "Resource": "*"})
    scp = doc({"Effect": "Deny", "Action": "*", "Resource": "*"})
    decision = evaluate(Request("sts:GetCallerIdentity", "*", caller), identity_policies=[deny], scps=[[scp]],
                        permissions_boundaries=[ALLOW_OTHER])
    assert decision.result == "allowed"


def test_get_caller_identity__is_allowed_without_any_policy():
    assert evaluate(Request("sts:GetCallerIdentity", "*", USER)).allowed


def test_get_session_token__cannot_be_prevented_by_policies():
    # id_credentials_temp_control-access_enable-create.md
    deny = doc({"Effect": "Deny", "Action": "sts:GetSessionToken", "Resource": "*"})
    assert evaluate(Request("sts:GetSessionToken", "*", USER), identity_policies=[deny]).allowed


def test_other_sts_actions__still_need_a_policy():
    assert evaluate(Request("sts:GetFederationToken", "*", USER)).result == "implicitDeny"
    deny = doc({"Effect": "Deny", "Action": "sts:*", "Resource": "*"})
    assert evaluate(Request("sts:GetAccessKeyInfo", "*", USER), identity_policies=[deny, ALLOW_ALL]).result == "explicitDeny"


# -- anonymous callers (reference_policies_elements_principal.md, "Anonymous principals") ----------

def test_none_principal__is_the_anonymous_caller():
    assert Request("s3:GetObject", OBJECT, None).get("aws:principaltype") == ("Anonymous",)


def test_anonymous__public_bucket_policy_grants():
    for principal in ("*", {"AWS": "*"}):
        decision = evaluate(Request("s3:GetObject", OBJECT, None, resource_account=ACCOUNT), resource_policy=grant(principal))
        assert decision.result == "allowed", principal


def test_anonymous__a_policy_naming_an_account_or_user_does_not_grant():
    for principal in ({"AWS": ACCOUNT}, {"AWS": USER}):
        decision = evaluate(Request("s3:GetObject", OBJECT, None, resource_account=ACCOUNT), resource_policy=grant(principal))
        assert decision.result == "implicitDeny", principal


def test_anonymous__identity_policies_cannot_grant():
    assert evaluate(Request("s3:GetObject", OBJECT, None), identity_policies=[ALLOW_ALL]).result == "implicitDeny"


def test_anonymous__scps_do_not_apply():
    # Organizations User Guide, SCPs: they affect only principals managed by accounts of the organization.
    scp = doc({"Effect": "Deny", "Action": "*", "Resource": "*"})
    decision = evaluate(Request("s3:GetObject", OBJECT, None, resource_account=ACCOUNT), resource_policy=grant("*"),
                        scps=[[scp]])
    assert decision.result == "allowed"


def test_anonymous__rcps_do_apply():
    # Organizations User Guide, RCPs: they apply to requests to the organization's resources by anyone.
    rcp = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
               "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-exampleorgid"}}})
    allow_all = doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
    decision = evaluate(Request("s3:GetObject", OBJECT, None, resource_account=ACCOUNT), resource_policy=grant("*"),
                        rcps=[[allow_all, rcp]])
    assert decision.result == "explicitDeny" and decision.decided_by == "rcp"


def test_unspecified_simulation_caller__still_has_identity_policies():
    assert evaluate(Request("s3:GetObject", OBJECT, UNSPECIFIED), identity_policies=[ALLOW_ALL]).allowed


# -- KMS key policies must allow (reference_policies_evaluation-logic.md; KMS key-policies.html) -----

KEY_POLICY_ACCOUNT = grant({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, action="kms:*", resource="*")


def test_kms__identity_allow_alone_does_not_grant_on_a_key():
    assert evaluate(Request("kms:Decrypt", KEY, USER), identity_policies=[ALLOW_ALL]).result == "implicitDeny"


def test_kms__key_policy_that_names_someone_else_does_not_grant():
    other = grant({"AWS": f"arn:aws:iam::{ACCOUNT}:user/someoneelse"}, action="kms:*", resource="*")
    decision = evaluate(Request("kms:Decrypt", KEY, USER), identity_policies=[ALLOW_ALL], resource_policy=other)
    assert decision.result == "implicitDeny" and decision.decided_by == "resource"


def test_kms__key_policy_delegating_to_the_account_needs_the_identity_allow():
    assert evaluate(Request("kms:Decrypt", KEY, USER), identity_policies=[ALLOW_ALL],
                    resource_policy=KEY_POLICY_ACCOUNT).allowed
    assert not evaluate(Request("kms:Decrypt", KEY, USER), resource_policy=KEY_POLICY_ACCOUNT).allowed


def test_kms__key_policy_naming_the_user_grants_alone():
    assert evaluate(Request("kms:Decrypt", KEY, USER), resource_policy=grant({"AWS": USER}, "kms:Decrypt", "*")).allowed


def test_kms__actions_not_on_a_key_are_identity_matters():
    assert evaluate(Request("kms:CreateKey", "*", USER), identity_policies=[ALLOW_ALL]).allowed
    alias = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/example"
    assert evaluate(Request("kms:CreateAlias", alias, USER), identity_policies=[ALLOW_ALL]).allowed


def test_role_trust__identity_allow_alone_does_not_assume_a_role():
    assert evaluate(Request("sts:AssumeRole", ROLE, USER), identity_policies=[ALLOW_ALL]).result == "implicitDeny"


# -- Same-account resource-based policies and implicit denies: the table of
#    reference_policies_evaluation-logic.md ("Resource-based policies and implicit denies in other
#    policy types (same account)"), one test per row and column ----------------------------------

BOUNDARY_OTHER = ALLOW_OTHER
SESSION_POLICY_OTHER = ALLOW_OTHER
TABLE = [
    # (caller, principal the resource policy names, implicit deny in, allowed?)
    ("role ARN", SESSION, ROLE, "identity", True),
    ("role ARN", SESSION, ROLE, "boundary", False),
    ("role ARN", SESSION, ROLE, "session", False),
    ("role session ARN", SESSION, SESSION, "identity", True),
    ("role session ARN", SESSION, SESSION, "boundary", True),
    ("role session ARN", SESSION, SESSION, "session", True),
    ("user ARN", USER, USER, "identity", True),
    ("user ARN", USER, USER, "boundary", True),
    ("federated session ARN", FEDERATED, FEDERATED, "identity", True),
    ("federated session ARN", FEDERATED, FEDERATED, "boundary", True),
    ("federated session ARN", FEDERATED, FEDERATED, "session", True),
    ("user who federated", FEDERATED, USER, "identity", True),
    ("user who federated", FEDERATED, USER, "boundary", False),
    ("user who federated", FEDERATED, USER, "session", False),
]


@pytest.mark.parametrize("row, caller, named, deny_in, allowed", TABLE, ids=[f"{r[0]}-{r[3]}" for r in TABLE])
def test_same_account_resource_policy_table(row, caller, named, deny_in, allowed):
    federated_by = USER if caller == FEDERATED else None
    request = Request("s3:GetObject", OBJECT, caller, resource_account=ACCOUNT, federated_by=federated_by)
    kwargs: dict = {"resource_policy": grant({"AWS": named}), "identity_policies": [ALLOW_ALL]}
    if deny_in == "identity":
        kwargs["identity_policies"] = [ALLOW_OTHER]
        if caller == FEDERATED:  # a federated session always has its session policy
            kwargs["session_policy"] = ALLOW_ALL
    elif deny_in == "boundary":
        kwargs["permissions_boundaries"] = [BOUNDARY_OTHER]
        if caller == FEDERATED:
            kwargs["session_policy"] = ALLOW_ALL
    else:
        kwargs["session_policy"] = SESSION_POLICY_OTHER
    decision = evaluate(request, **kwargs)
    assert decision.allowed is allowed, decision.explain()
    if not allowed:
        assert decision.decided_by == deny_in


def test_same_account__account_grant_needs_the_identity_allow():
    named_account = grant({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    assert not evaluate(Request("s3:GetObject", OBJECT, USER), resource_policy=named_account).allowed
    assert evaluate(Request("s3:GetObject", OBJECT, USER), resource_policy=named_account,
                    identity_policies=[ALLOW_ALL]).allowed


# -- Deny with NotPrincipal in a same-account resource policy (reference_policies_elements_notprincipal.md)

def deny_all_but(*names: str) -> dict:
    return doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECT},
               {"Effect": "Deny", "NotPrincipal": {"AWS": list(names)}, "Action": "s3:*", "Resource": OBJECT})


def test_not_principal_deny__spares_the_named_user():
    policy = deny_all_but(USER, f"arn:aws:iam::{ACCOUNT}:root")
    assert evaluate(Request("s3:GetObject", OBJECT, USER, resource_account=ACCOUNT), resource_policy=policy).allowed


def test_not_principal_deny__denies_everyone_it_does_not_name():
    policy = deny_all_but(USER, f"arn:aws:iam::{ACCOUNT}:root")
    other = f"arn:aws:iam::{ACCOUNT}:user/other"
    decision = evaluate(Request("s3:GetObject", OBJECT, other, resource_account=ACCOUNT), resource_policy=policy,
                        identity_policies=[ALLOW_ALL])
    assert decision.result == "explicitDeny"


def test_not_principal_deny__a_session_needs_its_session_arn_named_too():
    # "you must also include the account ARN ... and the role ARN ... and the assumed-role session ARN"
    only_role = deny_all_but(ROLE, f"arn:aws:iam::{ACCOUNT}:root")
    with_session = deny_all_but(ROLE, SESSION, f"arn:aws:iam::{ACCOUNT}:root")
    request = Request("s3:GetObject", OBJECT, SESSION, resource_account=ACCOUNT)
    assert evaluate(request, resource_policy=only_role).result == "explicitDeny"
    assert evaluate(request, resource_policy=with_session).allowed
