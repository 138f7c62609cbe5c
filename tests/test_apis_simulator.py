"""IAM's policy simulator APIs (labkit.apis.iam_simulator), called through boto3 in a running Lab."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server

ACCOUNT = "123456789012"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
APP_OBJECT = "arn:aws:s3:::acme-app-data/config/app.json"
FINANCE_OBJECT = "arn:aws:s3:::acme-finance/reports/2026-q3.csv"
ALLOW_S3 = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
AFTER_AUGUST = json.dumps({"Version": "2012-10-17", "Statement": {
    "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
    "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2018-08-16T12:00:00Z"}}}})
NEEDS_MFA = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*",
                                                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}}


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def error_of(call, **params):
    with pytest.raises(ClientError) as raised:
        call(**params)
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def only(response):
    [result] = response["EvaluationResults"]
    return result


def sources(result):
    return [(s["SourcePolicyId"], s["SourcePolicyType"]) for s in result["MatchedStatements"]]


# -- SimulateCustomPolicy ------------------------------------------------------------------------


def test_simulate_custom_policy__allows_with_the_context_the_condition_needs(lab):
    """The AWS CLI example: dynamodb:CreateBackup after the date in the policy's condition."""
    context = [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["2019-04-25T11:00:00Z"], "ContextKeyType": "date"}]
    response = lab.client("iam").simulate_custom_policy(
        PolicyInputList=[AFTER_AUGUST], ActionNames=["dynamodb:CreateBackup"], ContextEntries=context)
    result = only(response)
    assert (result["EvalActionName"], result["EvalResourceName"], result["EvalDecision"]) == ("dynamodb:CreateBackup", "*", "allowed")
    assert sources(result) == [("PolicyInputList.1", "IAM Policy")]
    assert result["MissingContextValues"] == [] and response["IsTruncated"] is False


def test_simulate_custom_policy__refuses_a_malformed_policy_with_MalformedPolicyDocument(lab):
    no_resource = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}})
    code, message, status = error_of(lab.client("iam").simulate_custom_policy,
                                     PolicyInputList=[ALLOW_S3, no_resource], ActionNames=["s3:GetObject"])
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert message == "PolicyInputList.2: Policy statement must contain resources (at statement #0, element Resource)"


def test_simulate_custom_policy__refuses_a_wildcard_action_with_InvalidInput(lab):
    code, message, status = error_of(lab.client("iam").simulate_custom_policy, PolicyInputList=[ALLOW_S3], ActionNames=["s3:Get*"])
    assert (code, message, status) == ("InvalidInput", "Invalid action name 's3:Get*': use service:Action, without wildcards", 400)


def test_simulate_custom_policy__refuses_two_permissions_boundaries(lab):
    code, message, _ = error_of(lab.client("iam").simulate_custom_policy, PolicyInputList=[ALLOW_S3],
                                PermissionsBoundaryPolicyInputList=[ALLOW_S3, ALLOW_S3], ActionNames=["s3:GetObject"])
    assert code == "InvalidInput"
    assert message.startswith("PermissionsBoundaryPolicyInputList accepts only one permissions boundary: got 2.")


def test_simulate_custom_policy__boundary_caps_what_the_policy_allows(lab):
    everything = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    response = lab.client("iam").simulate_custom_policy(PolicyInputList=[everything], PermissionsBoundaryPolicyInputList=[ALLOW_S3],
                                                        ActionNames=["iam:CreateUser", "s3:GetObject"])
    create_user, get_object = response["EvaluationResults"]
    assert create_user["EvalDecision"] == "implicitDeny"
    assert create_user["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert get_object["EvalDecision"] == "allowed"
    assert get_object["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}


def test_simulate_custom_policy__needs_a_caller_arn_with_a_resource_policy(lab):
    bucket = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": ALICE},
                                                                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-app-data/*"}})
    code, message, _ = error_of(lab.client("iam").simulate_custom_policy, PolicyInputList=[], ResourcePolicy=bucket,
                                ActionNames=["s3:GetObject"], ResourceArns=[APP_OBJECT])
    assert (code, message) == ("InvalidInput", "CallerArn is required when a ResourcePolicy is included in the simulation")


def test_simulate_custom_policy__reports_a_resource_policy_statement_as_Resource_Policy(lab):
    bucket = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": ALICE},
                                                                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-app-data/*"}})
    result = only(lab.client("iam").simulate_custom_policy(PolicyInputList=[], ResourcePolicy=bucket, CallerArn=ALICE,
                                                           ActionNames=["s3:GetObject"], ResourceArns=[APP_OBJECT]))
    assert result["EvalDecision"] == "allowed"
    assert sources(result) == [("ResourcePolicy", "Resource Policy")]
    assert result["EvalResourceName"] == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    assert [(r["EvalResourceName"], r["EvalResourceDecision"]) for r in result["ResourceSpecificResults"]] == [(APP_OBJECT, "allowed")]


def test_simulate_custom_policy__an_scp_deny_is_an_organizations_decision_not_a_matched_statement(lab):
    deny_delete = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]})
    result = only(lab.client("iam").simulate_custom_policy(
        PolicyInputList=[ALLOW_S3], ActionNames=["s3:DeleteObject"], CallerArn=ALICE,
        OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [deny_delete]}]))
    assert result["EvalDecision"] == "explicitDeny"
    assert result["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    assert result["MatchedStatements"] == []


def test_simulate_custom_policy__pages_results_with_MaxItems_and_Marker(lab):
    iam = lab.client("iam")
    actions = ["s3:GetObject", "s3:PutObject", "ec2:RunInstances"]
    first = iam.simulate_custom_policy(PolicyInputList=[ALLOW_S3], ActionNames=actions, MaxItems=2)
    assert [r["EvalActionName"] for r in first["EvaluationResults"]] == actions[:2] and first["IsTruncated"] is True
    rest = iam.simulate_custom_policy(PolicyInputList=[ALLOW_S3], ActionNames=actions, MaxItems=2, Marker=first["Marker"])
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in rest["EvaluationResults"]] == [("ec2:RunInstances", "implicitDeny")]
    assert rest["IsTruncated"] is False and "Marker" not in rest


def test_simulate_custom_policy__boto3_paginator_walks_every_page(lab):
    pages = lab.client("iam").get_paginator("simulate_custom_policy").paginate(
        PolicyInputList=[ALLOW_S3], ActionNames=["s3:GetObject", "s3:PutObject", "s3:ListBucket"], PaginationConfig={"PageSize": 1})
    assert [r["EvalActionName"] for page in pages for r in page["EvaluationResults"]] == ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]


def test_simulate_custom_policy__refuses_MaxItems_above_1000_with_ValidationError(lab):
    code, message, _ = error_of(lab.client("iam").simulate_custom_policy, PolicyInputList=[ALLOW_S3], ActionNames=["s3:GetObject"],
                                MaxItems=1001)
    assert (code, message) == ("ValidationError", "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy "
                                                  "constraint: Member must have value less than or equal to 1000")


def test_simulate_custom_policy__refuses_a_marker_it_did_not_give(lab):
    code, message, _ = error_of(lab.client("iam").simulate_custom_policy, PolicyInputList=[ALLOW_S3], ActionNames=["s3:GetObject"],
                                Marker="not-a-marker")
    assert (code, message) == ("InvalidInput", "Invalid Marker: pass the Marker from the previous response unchanged.")


def test_simulate_custom_policy__refuses_a_context_value_of_the_wrong_type(lab):
    context = [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["not-an-ip"], "ContextKeyType": "ip"}]
    code, message, _ = error_of(lab.client("iam").simulate_custom_policy, PolicyInputList=[ALLOW_S3], ActionNames=["s3:GetObject"],
                                ContextEntries=context)
    assert (code, message) == ("InvalidInput", "Invalid value 'not-an-ip' for context key aws:SourceIp of type ip")


# -- SimulatePrincipalPolicy ---------------------------------------------------------------------


def test_simulate_principal_policy__alice_reads_app_data_through_her_group(lab):
    result = only(lab.client("iam").simulate_principal_policy(PolicySourceArn=ALICE, ActionNames=["s3:GetObject"],
                                                              ResourceArns=["arn:aws:s3:::acme-app-data/*"]))
    assert result["EvalDecision"] == "allowed"
    assert sources(result) == [("group_developers_AppDataReadWrite", "IAM Policy"), ("AmazonS3ReadOnlyAccess", "IAM Policy")]
    assert result["EvalDecisionDetails"] == {}
    [specific] = result["ResourceSpecificResults"]
    assert (specific["EvalResourceName"], specific["EvalResourceDecision"]) == ("arn:aws:s3:::acme-app-data/*", "allowed")


def test_simulate_principal_policy__alice_cannot_write_finance_reports(lab):
    """Developers read every bucket (AmazonS3ReadOnlyAccess) but write only acme-app-data."""
    result = only(lab.client("iam").simulate_principal_policy(PolicySourceArn=ALICE, ActionNames=["s3:PutObject"],
                                                              ResourceArns=[APP_OBJECT, FINANCE_OBJECT]))
    assert result["EvalDecision"] == "implicitDeny"
    assert [(r["EvalResourceName"], r["EvalResourceDecision"], r["MatchedStatements"]) for r in result["ResourceSpecificResults"]][1] == (
        FINANCE_OBJECT, "implicitDeny", [])
    assert result["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"


def test_simulate_principal_policy__carol_the_admin_may_create_users(lab):
    result = only(lab.client("iam").simulate_principal_policy(PolicySourceArn=arn("user", "carol"), ActionNames=["iam:CreateUser"]))
    assert result["EvalDecision"] == "allowed"
    assert sources(result) == [("AdministratorAccess", "IAM Policy")]


def test_simulate_principal_policy__frank_without_policies_is_denied_implicitly(lab):
    result = only(lab.client("iam").simulate_principal_policy(PolicySourceArn=arn("user", "frank"), ActionNames=["s3:ListAllMyBuckets"]))
    assert (result["EvalDecision"], result["MatchedStatements"], result["MissingContextValues"]) == ("implicitDeny", [], [])
    assert "PermissionsBoundaryDecisionDetail" not in result


def test_simulate_principal_policy__a_group_is_simulated_with_its_own_policies(lab):
    result = only(lab.client("iam").simulate_principal_policy(PolicySourceArn=arn("group", "developers"), ActionNames=["s3:PutObject"],
                                                              ResourceArns=[APP_OBJECT]))
    assert result["EvalDecision"] == "allowed"
    assert sources(result) == [("group_developers_AppDataReadWrite", "IAM Policy")]


@pytest.fixture
def capped_role(lab):
    """A role allowed everything by AdministratorAccess, inside a boundary of S3 reads."""
    iam = lab.client("iam")
    boundary = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}}
    policy_arn = iam.create_policy(PolicyName="AcmeS3ReadBoundary", PolicyDocument=json.dumps(boundary))["Policy"]["Arn"]
    iam.create_role(RoleName="capped-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}}), PermissionsBoundary=policy_arn)
    iam.attach_role_policy(RoleName="capped-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    return arn("role", "capped-role")


def test_simulate_principal_policy__a_role_boundary_caps_its_admin_policy(lab, capped_role):
    response = lab.client("iam").simulate_principal_policy(PolicySourceArn=capped_role, ActionNames=["iam:CreateUser", "s3:GetObject"])
    create_user, get_object = response["EvaluationResults"]
    assert (create_user["EvalDecision"], create_user["PermissionsBoundaryDecisionDetail"]) == (
        "implicitDeny", {"AllowedByPermissionsBoundary": False})
    assert (get_object["EvalDecision"], get_object["PermissionsBoundaryDecisionDetail"]) == (
        "allowed", {"AllowedByPermissionsBoundary": True})
    assert sources(get_object) == [("AdministratorAccess", "IAM Policy")]


def test_simulate_principal_policy__a_boundary_given_as_input_replaces_the_roles_own(lab, capped_role):
    only_iam = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}})
    response = lab.client("iam").simulate_principal_policy(PolicySourceArn=capped_role, ActionNames=["iam:CreateUser", "s3:GetObject"],
                                                           PermissionsBoundaryPolicyInputList=[only_iam])
    assert [r["EvalDecision"] for r in response["EvaluationResults"]] == ["allowed", "implicitDeny"]


def test_simulate_principal_policy__a_resource_policy_cannot_be_simulated_for_a_role(lab):
    bucket = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                                "Resource": "arn:aws:s3:::acme-app-data/*"}})
    code, message, _ = error_of(lab.client("iam").simulate_principal_policy, PolicySourceArn=arn("role", "app-server-role"),
                                ActionNames=["s3:GetObject"], ResourceArns=[APP_OBJECT], ResourcePolicy=bucket)
    assert (code, message) == ("InvalidInput", "Simulation of resource-based policies isn't supported for IAM roles.")


def test_simulate_principal_policy__explicit_deny_points_at_the_deny_statement(lab):
    iam = lab.client("iam")
    deny = {"Sid": "NoFinance", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::acme-finance/*"}
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadAll", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, deny]})
    iam.put_user_policy(UserName="alice", PolicyName="KeepOutOfFinance", PolicyDocument=text)
    result = only(iam.simulate_principal_policy(PolicySourceArn=ALICE, ActionNames=["s3:GetObject"], ResourceArns=[FINANCE_OBJECT]))
    start = text.index(json.dumps(deny))
    assert result["EvalDecision"] == "explicitDeny"
    assert result["MatchedStatements"] == [{
        "SourcePolicyId": "user_alice_KeepOutOfFinance", "SourcePolicyType": "IAM Policy",
        "StartPosition": {"Line": 1, "Column": start + 1}, "EndPosition": {"Line": 1, "Column": start + len(json.dumps(deny))}}]


def test_simulate_principal_policy__a_missing_condition_key_is_listed(lab):
    iam = lab.client("iam")
    iam.put_user_policy(UserName="frank", PolicyName="DeleteWithMfa", PolicyDocument=json.dumps(NEEDS_MFA))
    result = only(iam.simulate_principal_policy(PolicySourceArn=arn("user", "frank"), ActionNames=["s3:DeleteObject"]))
    assert (result["EvalDecision"], result["MissingContextValues"]) == ("implicitDeny", ["aws:MultiFactorAuthPresent"])


def test_simulate_principal_policy__context_entries_satisfy_the_condition(lab):
    iam = lab.client("iam")
    iam.put_user_policy(UserName="frank", PolicyName="DeleteWithMfa", PolicyDocument=json.dumps(NEEDS_MFA))
    mfa = [{"ContextKeyName": "aws:MultiFactorAuthPresent", "ContextKeyValues": ["true"], "ContextKeyType": "boolean"}]
    result = only(iam.simulate_principal_policy(PolicySourceArn=arn("user", "frank"), ActionNames=["s3:DeleteObject"], ContextEntries=mfa))
    assert (result["EvalDecision"], result["MissingContextValues"]) == ("allowed", [])
    assert sources(result) == [("user_frank_DeleteWithMfa", "IAM Policy")]


def test_simulate_principal_policy__policy_input_list_adds_to_the_principals_policies(lab):
    result = only(lab.client("iam").simulate_principal_policy(PolicySourceArn=arn("user", "frank"), PolicyInputList=[ALLOW_S3],
                                                              ActionNames=["s3:ListAllMyBuckets"]))
    assert (result["EvalDecision"], sources(result)) == ("allowed", [("PolicyInputList.1", "IAM Policy")])


def test_simulate_principal_policy__an_excluded_policy_is_left_out(lab):
    exclusions = [{"PolicyArn": "arn:aws:iam::aws:policy/Administrator*"}]
    result = only(lab.client("iam").simulate_principal_policy(PolicySourceArn=arn("user", "carol"), ActionNames=["iam:CreateUser"],
                                                              PolicyExclusionList=exclusions))
    assert (result["EvalDecision"], result["MatchedStatements"]) == ("implicitDeny", [])


def test_simulate_principal_policy__pages_results_with_MaxItems(lab):
    response = lab.client("iam").simulate_principal_policy(PolicySourceArn=ALICE, ActionNames=["s3:GetObject", "s3:PutObject"], MaxItems=1)
    assert [r["EvalActionName"] for r in response["EvaluationResults"]] == ["s3:GetObject"]
    assert response["IsTruncated"] is True and response["Marker"]


def test_simulate_principal_policy__an_unknown_user_is_NoSuchEntity(lab):
    code, message, status = error_of(lab.client("iam").simulate_principal_policy, PolicySourceArn=arn("user", "nobody"),
                                     ActionNames=["s3:GetObject"])
    assert (code, message, status) == ("NoSuchEntity", "The user with name nobody cannot be found.", 404)


def test_simulate_principal_policy__an_assumed_role_session_arn_is_InvalidInput(lab):
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-server-role/i-0abc"
    code, message, _ = error_of(lab.client("iam").simulate_principal_policy, PolicySourceArn=session, ActionNames=["s3:GetObject"])
    assert (code, message) == ("InvalidInput", f"Invalid Entity Arn: {session} does not clearly define entity type and name.")


# -- who may simulate ----------------------------------------------------------------------------


def test_simulate_principal_policy__frank_without_the_permission_is_AccessDenied(lab):
    frank = lab.session_as("frank").client("iam")
    code, message, status = error_of(frank.simulate_principal_policy, PolicySourceArn=ALICE, ActionNames=["s3:GetObject"])
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/frank is not authorized to perform: iam:SimulatePrincipalPolicy on "
                       f"resource: {ALICE} because no identity-based policy allows the iam:SimulatePrincipalPolicy action")


def test_simulate_custom_policy__frank_without_the_permission_is_AccessDenied(lab):
    frank = lab.session_as("frank").client("iam")
    code, message, _ = error_of(frank.simulate_custom_policy, PolicyInputList=[ALLOW_S3], ActionNames=["s3:GetObject"])
    assert code == "AccessDenied"
    assert message.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/frank is not authorized to perform: iam:SimulateCustomPolicy")


def test_simulate_principal_policy__dave_the_auditor_may_simulate(lab):
    """ReadOnlyAccess grants iam:Simulate* (and iam:Get*, so GetContextKeysFor*Policy too)."""
    dave = lab.session_as("dave").client("iam")
    result = only(dave.simulate_principal_policy(PolicySourceArn=ALICE, ActionNames=["s3:PutObject"], ResourceArns=[APP_OBJECT]))
    assert result["EvalDecision"] == "allowed"
    # IAMUserChangePassword, from alice's group, names arn:aws:iam::*:user/${aws:username}.
    assert dave.get_context_keys_for_principal_policy(PolicySourceArn=ALICE)["ContextKeyNames"] == ["aws:username"]


# -- GetContextKeysFor*Policy --------------------------------------------------------------------


def test_get_context_keys_for_custom_policy__lists_condition_keys_and_policy_variables(lab):
    policy = json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::acme-app-data/${aws:username}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "Bool": {"aws:SecureTransport": "true"}}}})
    keys = lab.client("iam").get_context_keys_for_custom_policy(PolicyInputList=[policy, AFTER_AUGUST])["ContextKeyNames"]
    assert keys == ["aws:CurrentTime", "aws:SecureTransport", "aws:SourceIp", "aws:username"]


def test_get_context_keys_for_custom_policy__refuses_a_malformed_policy(lab):
    code, message, _ = error_of(lab.client("iam").get_context_keys_for_custom_policy, PolicyInputList=["{not json"])
    assert code == "MalformedPolicyDocument"
    assert message.startswith("PolicyInputList.1: Syntax errors in policy:")


def test_get_context_keys_for_principal_policy__reads_the_principals_policies_and_the_input(lab):
    iam = lab.client("iam")
    iam.put_user_policy(UserName="frank", PolicyName="DeleteWithMfa", PolicyDocument=json.dumps(NEEDS_MFA))
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=arn("user", "frank"), PolicyInputList=[AFTER_AUGUST])
    assert keys["ContextKeyNames"] == ["aws:CurrentTime", "aws:MultiFactorAuthPresent"]


def test_get_context_keys_for_principal_policy__an_unknown_role_is_NoSuchEntity(lab):
    code, message, status = error_of(lab.client("iam").get_context_keys_for_principal_policy, PolicySourceArn=arn("role", "ghost"))
    assert (code, message, status) == ("NoSuchEntity", "The role with name ghost cannot be found.", 404)


# -- Response shapes, against botocore's iam service model ---------------------------------------


def raw_bodies(client) -> list[bytes]:
    """The XML bodies the client receives, before botocore's parser drops anything it does not know."""
    bodies: list[bytes] = []
    client.meta.events.register("before-parse.iam.*", lambda response_dict, **_: bodies.append(response_dict["body"]))
    return bodies


def shape_errors(element, shape, where: str) -> list[str]:
    """Elements of the XML answer that the botocore output shape does not have, or values of the wrong kind."""
    name = element.tag.split("}")[-1]
    if shape.type_name == "structure":
        errors = []
        for child in element:
            tag = child.tag.split("}")[-1]
            if tag not in shape.members:
                errors.append(f"{where}.{tag}: not in {shape.name}")
            else:
                errors += shape_errors(child, shape.members[tag], f"{where}.{tag}")
        return errors
    if shape.type_name == "list":
        return [e for i, child in enumerate(element) for e in
                ([f"{where}[{i}]: {child.tag} is not member"] if child.tag.split("}")[-1] != "member" else [])
                + shape_errors(child, shape.member, f"{where}[{i}]")]
    if shape.type_name == "map":
        errors = []
        for i, entry in enumerate(element):
            parts = {child.tag.split("}")[-1]: child for child in entry}
            if entry.tag.split("}")[-1] != "entry" or set(parts) != {"key", "value"}:
                errors.append(f"{where}[{i}]: not an entry of key and value")
                continue
            errors += shape_errors(parts["key"], shape.key, f"{where}[{i}].key")
            errors += shape_errors(parts["value"], shape.value, f"{where}[{i}].value")
        return errors
    text = element.text or ""
    if getattr(shape, "enum", None) and text not in shape.enum:
        return [f"{where}: {text!r} is not one of {shape.name}"]
    if shape.type_name == "boolean" and text not in ("true", "false"):
        return [f"{where}: {text!r} is not a boolean"]
    if shape.type_name == "integer" and not text.isdigit():
        return [f"{where}: {text!r} is not an integer ({name})"]
    return []


def check_shape(client, operation: str, body: bytes) -> list[str]:
    from xml.etree import ElementTree

    output = client.meta.service_model.operation_model(operation).output_shape
    [result] = [e for e in ElementTree.fromstring(body) if e.tag.endswith(f"{operation}Result")]
    return shape_errors(result, output, operation)


def test_simulate_custom_policy__answers_in_botocores_output_shape_with_resource_specific_results(lab):
    iam = lab.client("iam")
    bodies = raw_bodies(iam)
    boundary = json.dumps(NEEDS_MFA)
    response = iam.simulate_custom_policy(PolicyInputList=[ALLOW_S3], PermissionsBoundaryPolicyInputList=[boundary],
                                          OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [ALLOW_S3]}],
                                          ActionNames=["s3:GetObject", "s3:DeleteObject"],
                                          ResourceArns=[APP_OBJECT, FINANCE_OBJECT])
    assert check_shape(iam, "SimulateCustomPolicy", bodies[-1]) == []
    get_object, delete_object = response["EvaluationResults"]
    assert get_object["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert delete_object["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert [(r["EvalResourceName"], r["EvalResourceDecision"]) for r in delete_object["ResourceSpecificResults"]] == [
        (APP_OBJECT, "implicitDeny"), (FINANCE_OBJECT, "implicitDeny")]
    assert delete_object["ResourceSpecificResults"][0]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}


def test_simulate_principal_policy__answers_in_botocores_output_shape_with_resource_specific_results(lab):
    iam = lab.client("iam")
    bodies = raw_bodies(iam)
    iam.put_user_policy(UserName="frank", PolicyName="DeleteWithMfa", PolicyDocument=json.dumps(NEEDS_MFA))
    response = iam.simulate_principal_policy(PolicySourceArn=arn("user", "frank"), ActionNames=["s3:DeleteObject"],
                                             ResourceArns=[APP_OBJECT, FINANCE_OBJECT])
    assert check_shape(iam, "SimulatePrincipalPolicy", bodies[-1]) == []
    result = only(response)
    assert [r["MissingContextValues"] for r in result["ResourceSpecificResults"]] == [["aws:MultiFactorAuthPresent"]] * 2
    assert result["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
