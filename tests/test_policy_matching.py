"""Action, NotAction, Resource and NotResource matching: wildcards, case, ARN segments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.policy import Policy, Request, evaluate
from labkit.policy.patterns import Template, compile_matcher, matches

USER = "arn:aws:iam::123456789012:user/alice"


def allowed(action: str, resource: str, **statement) -> bool:
    policy = Policy.from_dict({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]})
    return evaluate(Request(action, resource, USER), identity_policies=[policy]).allowed


@pytest.mark.parametrize("action", ["iam:ListAccessKeys", "IAM:listaccesskeys", "iam:LISTACCESSKEYS"])
def test_action_names_and_prefixes__are_case_insensitive(action):
    """reference_policies_elements_action.md: iam:ListAccessKeys is the same as IAM:listaccesskeys."""
    assert allowed(action, "*", Action="iam:ListAccessKeys", Resource="*")


@pytest.mark.parametrize("action,expected", [("iam:CreateAccessKey", True), ("iam:ListAccessKeys", True),
                                             ("iam:UpdateAccessKey", True), ("iam:CreateUser", False)])
def test_action_wildcard__matches_part_of_the_name(action, expected):
    """reference_policies_elements_action.md: "iam:*AccessKey*" covers every access-key action."""
    assert allowed(action, "*", Action="iam:*AccessKey*", Resource="*") is expected


def test_question_mark__is_exactly_one_character():
    assert allowed("s3:GetObject", "*", Action="s3:GetObjec?", Resource="*")
    assert not allowed("s3:GetObjects", "*", Action="s3:GetObjec?", Resource="*")
    assert not allowed("s3:GetObjec", "*", Action="s3:GetObjec?", Resource="*")


def test_regex_characters__are_literal():
    assert allowed("s3:GetObject", "arn:aws:s3:::my.bucket+1/k", Action="s3:*", Resource="arn:aws:s3:::my.bucket+1/*")
    assert not allowed("s3:GetObject", "arn:aws:s3:::myXbucket+1/k", Action="s3:*", Resource="arn:aws:s3:::my.bucket+1/*")
    assert not allowed("s3:GetObject", "arn:aws:s3:::my.buckett1/k", Action="s3:*", Resource="arn:aws:s3:::my.bucket+1/*")


def test_star_action__matches_every_service():
    assert allowed("dynamodb:Query", "*", Action="*", Resource="*")


def test_notaction_with_allow__allows_everything_else():
    """reference_policies_elements_notaction.md: allow every action except IAM ones."""
    assert allowed("s3:GetObject", "*", NotAction="iam:*", Resource="*")
    assert not allowed("iam:CreateUser", "*", NotAction="iam:*", Resource="*")


def test_notaction_with_deny__denies_everything_else():
    """reference_policies_elements_notaction.md: DenyAllUsersNotUsingMFA denies non-IAM actions
    without MFA, and grants nothing by itself."""
    policies = [
        {"Version": "2012-10-17", "Statement": [{"Sid": "DenyAllUsersNotUsingMFA", "Effect": "Deny", "NotAction": "iam:*",
                                                 "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    ]
    assert evaluate(Request("ec2:RunInstances", "*", USER), identity_policies=policies).result == "explicitDeny"
    assert evaluate(Request("iam:ListUsers", "*", USER), identity_policies=policies).allowed
    with_mfa = Request("ec2:RunInstances", "*", USER, context={"aws:MultiFactorAuthPresent": True})
    assert evaluate(with_mfa, identity_policies=policies).allowed
    assert evaluate(with_mfa, identity_policies=policies[:1]).result == "implicitDeny"


@pytest.mark.parametrize("key", ["1/test/object.jpg", "1/2/test/object.jpg", "1/2/test/3/object.jpg", "1/2/3/test/4/object.jpg",
                                 "1///test///object.jpg", "1/test/.jpg", "/test/object.jpg", "1/test/"])
def test_resource_star__spans_slashes_within_the_segment(key):
    """reference_policies_elements_resource.md: DOC-EXAMPLE-BUCKET/*/test/* matches all of these."""
    assert allowed("s3:GetObject", f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{key}", Action="s3:GetObject",
                   Resource="arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*")


@pytest.mark.parametrize("key", ["1-test/object.jpg", "test/object.jpg", "1/2/test.jpg"])
def test_resource_star__does_not_match_what_the_doc_excludes(key):
    """reference_policies_elements_resource.md: ... and none of these."""
    assert not allowed("s3:GetObject", f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{key}", Action="s3:GetObject",
                       Resource="arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*")


def test_resource_wildcard__stays_inside_its_arn_segment():
    """reference_policies_elements_resource.md: wildcards work within the colon-separated
    segments. labkit's choice: before the resource segment a `*` does not cross a colon; in the
    resource segment (everything after the fifth colon) it matches anything, colons included."""
    pattern = "arn:aws:logs:*:123456789012:log-group:*"
    assert allowed("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:web",
                   Action="logs:*", Resource=pattern)
    assert not allowed("logs:PutLogEvents", "arn:aws:logs:us-east-1:999999999999:x:123456789012:log-group:app",
                       Action="logs:*", Resource="arn:aws:logs:*:123456789012:log-group:app")


def test_resource_arns__are_case_sensitive():
    assert not allowed("s3:GetObject", "arn:aws:s3:::Bucket/k", Action="s3:*", Resource="arn:aws:s3:::bucket/*")


def test_resource_star_alone__matches_any_resource():
    assert allowed("iam:ListUsers", "*", Action="iam:*", Resource="*")
    assert allowed("s3:GetObject", "arn:aws:s3:::b/k", Action="s3:*", Resource=["arn:aws:s3:::other", "*"])


def test_notresource_with_deny__denies_all_but_the_listed_resources():
    """reference_policies_elements_notresource.md: HRPayroll may touch only HRBucket/Payroll."""
    policies = [
        {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "s3:*",
                                                "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}},
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
    ]
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv", USER), identity_policies=policies).allowed
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::HRBucket/Other", USER),
                    identity_policies=policies).result == "explicitDeny"
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan.csv", USER),
                    identity_policies=policies[:1]).result == "implicitDeny"


def test_notresource_with_allow__allows_everything_else():
    assert allowed("s3:GetObject", "arn:aws:s3:::public/k", Action="s3:*", NotResource="arn:aws:s3:::HRBucket*")
    assert not allowed("s3:GetObject", "arn:aws:s3:::HRBucket", Action="s3:*", NotResource="arn:aws:s3:::HRBucket*")


def test_multiple_resources__any_one_matches():
    """reference_policies_elements_resource.md: a list of resources (two DynamoDB tables)."""
    tables = ["arn:aws:dynamodb:us-east-2:123456789012:table/books_table",
              "arn:aws:dynamodb:us-east-2:123456789012:table/magazines_table"]
    assert allowed("dynamodb:GetItem", tables[1], Action="dynamodb:*", Resource=tables)
    assert not allowed("dynamodb:GetItem", tables[1] + "2", Action="dynamodb:*", Resource=tables)


# --- the wildcard matcher against a plain reference ---------------------------------------

def _glob(pattern: str, text: str) -> bool:
    """Textbook glob: `*` any run of characters, `?` one character, the rest literal."""
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return match(i + 1, j) or (j < len(text) and match(i, j + 1))
        return j < len(text) and pattern[i] in ("?", text[j]) and match(i + 1, j + 1)
    return match(0, 0)


def _arn_glob(pattern: str, text: str) -> bool:
    """The ARN rule labkit follows: a lone `*` is any resource; otherwise segment by segment, the
    sixth segment taking the rest."""
    if pattern == "*":
        return True
    wanted, got = pattern.split(":", 5), text.split(":", 5)
    return len(wanted) == len(got) and all(_glob(w, g) for w, g in zip(wanted, got))


@settings(max_examples=200, deadline=None)
@given(st.text("ab:*?", max_size=12), st.text("ab:/", max_size=12), st.booleans())
def test_wildcard_matching__agrees_with_a_textbook_glob(pattern, text, arn):
    template = Template(pattern, variables=False, wildcards=True)
    matcher = compile_matcher([template.tokens], arn=arn)
    assert matches(matcher, text) == (_arn_glob(pattern, text) if arn else _glob(pattern, text))


def test_wildcard_matching__stays_fast_on_long_strings():
    """Many stars against a long near-miss would backtrack for ages in a naive regex."""
    matcher = compile_matcher([Template("*a*a*a*a*a*a*b", variables=False, wildcards=True).tokens], arn=False)
    assert not matches(matcher, "a" * 50_000)
