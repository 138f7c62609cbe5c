"""Fuzzing: no document, request or simulation input, however odd, escapes as anything but a
labkit error carrying AWS's code (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.errors import AwsError, InvalidInput, LabkitError, MalformedPolicyDocument
from labkit.policy import Policy, Request, evaluate, simulate
from labkit.policy.conditions import OPERATORS

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ELEMENTS = ["Version", "Id", "Statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
            "Resource", "NotResource", "Condition", "AWS", "Service", "Federated", "CanonicalUser"]

odd_text = st.text(st.characters(codec=None, categories=None), max_size=30) | st.sampled_from(
    ["", "*", "?", "${", "${}", "${aws:username", "${aws:username, 'x'}", "${*}${?}${$}", "arn:aws:s3:::*", "s3:*",
     "arn:aws:iam::123456789012:root", "2012-10-17", "2008-10-17", "\ud800", "İ", "ß", "\x00", "1e999", "-0", "::1/0"])
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | odd_text
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.sampled_from(ELEMENTS) | odd_text, children, max_size=4), max_leaves=12)
# Smaller values for the many places one element or argument is fuzzed at a time.
small_json = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                          | st.dictionaries(st.sampled_from(ELEMENTS) | odd_text, children, max_size=2), max_leaves=4)


def refused_as_aws_would(error: LabkitError) -> None:
    assert isinstance(error, AwsError) and error.code in ("MalformedPolicyDocument", "InvalidInput")
    assert str(error).startswith(error.code)


def parse(document) -> Policy | None:
    try:
        return Policy.from_dict(document)
    except MalformedPolicyDocument as error:
        refused_as_aws_would(error)
        return None


@FUZZ
@given(json_values)
def test_any_json_value__parses_or_is_malformed(value):
    parse(value)
    try:
        Policy.from_json(json.dumps(value))
    except MalformedPolicyDocument as error:
        refused_as_aws_would(error)


def elements(valid: dict):
    """A statement or document where each element is either sensible or any JSON value."""
    return st.fixed_dictionaries({}, optional={key: st.just(value) | small_json for key, value in valid.items()})


statement_fuzz = elements({"Sid": "S1", "Effect": "Allow", "Action": "s3:*", "NotAction": ["iam:*"], "Resource": "*",
                           "NotResource": "arn:aws:s3:::b/*", "Principal": {"AWS": "123456789012"}, "NotPrincipal": "*",
                           "Condition": {"StringEquals": {"aws:username": "bob"}}})
document_fuzz = st.builds(lambda top, statements, single: {**top, "Statement": statements[0] if single and statements else statements},
                          elements({"Version": "2012-10-17", "Id": "x"}), st.lists(statement_fuzz, max_size=3), st.booleans())


@FUZZ
@given(document_fuzz, st.sampled_from([None, "user", "resource", "aws-managed"]))
def test_wrong_types_in_every_element__are_malformed_not_crashes(document, policy_type):
    try:
        policy = Policy.from_dict(document, policy_type=policy_type)
    except MalformedPolicyDocument as error:
        refused_as_aws_would(error)
        return
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", "arn:aws:iam::123456789012:user/bob")
    evaluate(request, identity_policies=[policy], resource_policy=policy).explain()


@FUZZ
@given(st.text(st.characters(codec=None, categories=None)) | st.binary().map(lambda b: b"{" + b))
def test_any_text_or_bytes__parses_or_is_malformed(text):
    try:
        Policy.from_json(text)
    except MalformedPolicyDocument as error:
        refused_as_aws_would(error)


@FUZZ
@given(st.dictionaries(st.integers() | st.none() | st.booleans() | st.floats(allow_nan=False) | odd_text, small_json, max_size=4))
def test_non_string_keys__before_and_after_a_json_round_trip(document):
    parse({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", **document}]})
    parse(json.loads(json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
                                                                        "Condition": {"StringEquals": document}}})))


operator_names = st.builds(lambda prefix, name, suffix: prefix + name + suffix,
                           st.sampled_from(["", "ForAllValues:", "ForAnyValue:", "forallvalues:", "Bogus:"]),
                           st.sampled_from(sorted(OPERATORS)) | odd_text, st.sampled_from(["", "IfExists", "ifexists"]))
context_values = scalars | st.lists(scalars, max_size=3) | st.binary(max_size=8)


@FUZZ
@given(st.dictionaries(operator_names, st.dictionaries(st.sampled_from(["aws:SourceIp", "s3:x", "aws:CurrentTime", "a:b"]) | odd_text,
                                                       scalars | st.lists(scalars, max_size=3), max_size=3), max_size=3),
       st.dictionaries(st.sampled_from(["aws:SourceIp", "s3:x", "aws:CurrentTime", "a:b"]) | odd_text, context_values, max_size=4),
       st.sampled_from(["2012-10-17", "2008-10-17"]))
def test_conditions_with_odd_operators_values_and_context__never_crash(condition, context, version):
    policy = parse({"Version": version, "Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${a:b}",
                                                      "Condition": condition}})
    try:
        request = Request("s3:GetObject", "arn:aws:s3:::b/x", "arn:aws:iam::123456789012:user/bob", context=context)
    except InvalidInput as error:
        refused_as_aws_would(error)
        return
    if policy is not None:
        decision = evaluate(request, identity_policies=[policy])
        assert decision.result in ("allowed", "implicitDeny") and decision.explain()


POLICY = Policy.from_dict({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalTag/x": "*"}}},
    {"Effect": "Deny", "NotAction": "s3:*", "NotResource": "arn:aws:s3:::${aws:username}/*",
     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "DateLessThan": {"aws:CurrentTime": "2000-01-01"}}}]})
BUCKET = Policy.from_dict({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": "123456789012"},
                                                                  "Action": "*", "Resource": "*"}})


@FUZZ
@given(odd_text | small_json, odd_text | small_json, odd_text | st.sampled_from(
    ["arn:aws:iam::123456789012:user/a", "arn:aws:sts::123456789012:assumed-role/r/s", "ec2.amazonaws.com", "anonymous", None]),
    st.none() | odd_text, small_json, st.none() | odd_text)
def test_requests_however_odd__decide_or_are_invalid_input(action, resource, principal, account, context, role_path):
    try:
        request = Request(action, resource, principal, account, context, role_path=role_path)
    except InvalidInput as error:
        refused_as_aws_would(error)
        return
    decision = evaluate(request, identity_policies=[POLICY], resource_policy=BUCKET, scps=[[POLICY]], rcps=[[POLICY]],
                        permissions_boundaries=[POLICY], session_policy=POLICY)
    assert decision.result in ("allowed", "explicitDeny", "implicitDeny")
    assert decision.explain() and decision._repr_html_() and repr(decision)


@FUZZ
@given(small_json, st.none() | small_json, small_json, st.none() | odd_text, st.none() | odd_text)
def test_simulate_with_odd_inputs__answers_or_is_invalid_input(actions, resources, entries, caller, owner):
    try:
        results = simulate(actions, resource_arns=resources, context_entries=entries, caller_arn=caller, resource_owner=owner,
                           policies=[POLICY], resource_policy=BUCKET if caller else None)
    except LabkitError as error:
        refused_as_aws_would(error)
        return
    assert all(r["EvalDecision"] in ("allowed", "explicitDeny", "implicitDeny") for r in results)


def test_huge_strings__are_handled_quickly():
    """Megabyte request values against patterns as long as IAM lets a policy be (10,240 characters
    for an inline role policy) with many wildcards."""
    huge, long = "x" * 1_000_000, "x" * 10_000
    policy = Policy.from_dict({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::*{long}*a*b*c*",
        "Condition": {"StringLike": {"s3:prefix": f"*{long[:1000]}*?*{long[:10]}*z"}}}})
    request = Request("s3:GetObject", f"arn:aws:s3:::{huge}{huge}", "arn:aws:iam::123456789012:user/bob",
                      context={"s3:prefix": huge, "aws:PrincipalTag/x": huge})
    assert evaluate(request, identity_policies=[policy]).result == "implicitDeny"
    assert evaluate(request, identity_policies=[POLICY]).allowed
    assert len(Policy.from_json(json.dumps({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                          "Sid": huge}})).statements) == 1
