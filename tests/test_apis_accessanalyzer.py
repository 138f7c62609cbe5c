"""Access Analyzer's ValidatePolicy (labkit.apis.accessanalyzer), called through boto3 in a running Lab."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server

# The gate maps botocore's "accessanalyzer" to IAM's "access-analyzer" prefix once
# labkit/actions/overrides.py PREFIX has that entry; until then it refuses every non-admin call.
CHECKS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
TYPO = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBucket"], "Resource": "*"},
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}, indent=4)


def error_of(call, **params):
    with pytest.raises(ClientError) as raised:
        call(**params)
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_validate_policy__reports_an_action_that_does_not_exist_where_it_is(lab):
    findings = lab.client("accessanalyzer").validate_policy(policyDocument=TYPO, policyType="IDENTITY_POLICY")["findings"]
    [typo] = [f for f in findings if f["issueCode"] == "INVALID_ACTION"]
    assert typo["findingType"] == "ERROR"
    assert typo["findingDetails"] == "The action s3:ListAllMyBucket does not exist. Did you mean s3:ListAllMyBuckets?"
    assert typo["learnMoreLink"] == f"{CHECKS}#access-analyzer-reference-policy-checks-error-invalid-action"
    [location] = typo["locations"]
    assert location["path"] == [{"value": "Statement"}, {"index": 0}, {"value": "Action"}, {"index": 1}]
    start, end = location["span"]["start"]["offset"], location["span"]["end"]["offset"]
    assert TYPO[start:end] == '"s3:ListAllMyBucket"'


def test_validate_policy__a_clean_policy_has_no_findings(lab):
    clean = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                                                               "Resource": "arn:aws:s3:::acme-app-data/*"}})
    response = lab.client("accessanalyzer").validate_policy(policyDocument=clean, policyType="IDENTITY_POLICY")
    assert response["findings"] == [] and "nextToken" not in response


def test_validate_policy__a_trust_policy_is_checked_as_a_role_trust_policy(lab):
    trust = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                               "Action": "sts:AssumeRole", "Resource": "*"}})
    findings = lab.client("accessanalyzer").validate_policy(policyDocument=trust, policyType="RESOURCE_POLICY",
                                                            validatePolicyResourceType="AWS::IAM::AssumeRolePolicyDocument")["findings"]
    assert "ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE" in [f["issueCode"] for f in findings]


def test_validate_policy__invalid_json_is_a_finding_not_an_error(lab):
    [finding] = lab.client("accessanalyzer").validate_policy(policyDocument="{", policyType="IDENTITY_POLICY")["findings"]
    assert (finding["findingType"], finding["issueCode"]) == ("ERROR", "JSON_SYNTAX_ERROR")


def test_validate_policy__pages_findings_with_maxResults_and_nextToken(lab):
    analyzer = lab.client("accessanalyzer")
    every = analyzer.validate_policy(policyDocument=TYPO, policyType="IDENTITY_POLICY")["findings"]
    first = analyzer.validate_policy(policyDocument=TYPO, policyType="IDENTITY_POLICY", maxResults=1)
    rest = analyzer.validate_policy(policyDocument=TYPO, policyType="IDENTITY_POLICY", nextToken=first["nextToken"])
    assert len(every) > 1 and first["findings"] + rest["findings"] == every
    assert "nextToken" not in rest


def test_validate_policy__boto3_paginator_walks_every_page(lab):
    analyzer = lab.client("accessanalyzer")
    every = analyzer.validate_policy(policyDocument=TYPO, policyType="IDENTITY_POLICY")["findings"]
    pages = analyzer.get_paginator("validate_policy").paginate(policyDocument=TYPO, policyType="IDENTITY_POLICY",
                                                               PaginationConfig={"PageSize": 1})
    assert [f for page in pages for f in page["findings"]] == every


def test_validate_policy__an_unknown_policy_type_is_a_ValidationException(lab):
    code, message, status = error_of(lab.client("accessanalyzer").validate_policy, policyDocument=TYPO, policyType="IDENTITY")
    assert (code, status) == ("ValidationException", 400)
    assert message == ("1 validation error detected: Value 'IDENTITY' at 'policyType' failed to satisfy constraint: Member must "
                       "satisfy enum value set: [IDENTITY_POLICY, RESOURCE_POLICY, SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY]")


def test_validate_policy__a_resource_type_needs_a_resource_policy(lab):
    code, message, _ = error_of(lab.client("accessanalyzer").validate_policy, policyDocument=TYPO, policyType="IDENTITY_POLICY",
                                validatePolicyResourceType="AWS::S3::Bucket")
    assert code == "ValidationException"
    assert message.endswith("needs policyType RESOURCE_POLICY; got 'AWS::S3::Bucket' with IDENTITY_POLICY.")


def test_validate_policy__a_token_it_did_not_give_is_a_ValidationException(lab):
    code, message, _ = error_of(lab.client("accessanalyzer").validate_policy, policyDocument=TYPO, policyType="IDENTITY_POLICY",
                                nextToken="not-a-token")
    assert (code, message) == ("ValidationException", "Invalid pagination token: pass the nextToken of the previous response unchanged.")


def test_validate_policy__frank_without_the_permission_is_AccessDeniedException(lab):
    frank = lab.session_as("frank").client("accessanalyzer")
    code, message, status = error_of(frank.validate_policy, policyDocument=TYPO, policyType="IDENTITY_POLICY")
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == ("User: arn:aws:iam::123456789012:user/frank is not authorized to perform: access-analyzer:ValidatePolicy "
                       "on resource: * because no identity-based policy allows the access-analyzer:ValidatePolicy action")


def test_validate_policy__dave_the_auditor_may_validate(lab):
    """ReadOnlyAccess grants access-analyzer:ValidatePolicy."""
    dave = lab.session_as("dave").client("accessanalyzer")
    assert dave.validate_policy(policyDocument=TYPO, policyType="IDENTITY_POLICY")["findings"]
