"""Calls made with a user's or a session's own credentials are allowed or denied as AWS would.

Each feature gets a real boto3 call through a Lab that AWS would allow and one it would deny,
checking the error code and message. The reference is the IAM User Guide: "Policy evaluation
logic" (reference_policies_evaluation-logic.md), "Cross-account policy evaluation logic",
"Permissions boundaries" (access_policies_boundaries.md), "Session policies"
(access_policies.md#policies_session), "Condition keys" (reference_policies_condition-keys.md),
"Using MFA" (id_credentials_mfa_configure-api-require.md).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from labkit.sessions import totp

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server

ACCOUNT = "123456789012"


def refused(call):
    """(code, message) of the ClientError ``call`` raises; fails the test if it succeeds."""
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(lab, user, *statements, name="test"):
    lab.client("iam").put_user_policy(UserName=user, PolicyName=name, PolicyDocument=policy(*statements))


def session_from(credentials):
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


# -- 1. request to action and resource ----------------------------------------------------------


def test_s3_head_bucket__is_authorized_as_s3_list_bucket(lab):
    s3 = lab.session_as("erin").client("s3")  # finance: s3:ListBucket on acme-finance only
    s3.head_bucket(Bucket="acme-finance")
    code, message = refused(lambda: s3.list_objects_v2(Bucket="acme-telemetry"))
    assert code == "AccessDenied"
    assert "s3:ListBucket on resource: arn:aws:s3:::acme-telemetry because no identity-based policy" in message


def test_json_services__deny_with_access_denied_exception(lab):
    grant(lab, "frank", allow("dynamodb:ListTables"))
    dynamodb = lab.session_as("frank").client("dynamodb")
    assert dynamodb.list_tables()["TableNames"] == []
    code, message = refused(lambda: dynamodb.create_table(
        TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST"))
    assert code == "AccessDeniedException"
    assert message.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/frank is not authorized to perform: dynamodb:CreateTable")


def test_calls_as_the_administrator__are_not_enforced(lab):
    assert lab.client("iam").create_user(UserName="newcomer")["User"]["UserName"] == "newcomer"


# -- 2. every policy AWS would consult ---------------------------------------------------------


def test_user_permissions_boundary__caps_an_administrator(lab):
    iam = lab.client("iam")
    carol = lab.session_as("carol").client("iam")  # admins: AdministratorAccess
    iam.put_user_permissions_boundary(UserName="carol", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert iam.get_user(UserName="carol")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith("AmazonS3ReadOnlyAccess")
    code, message = refused(lambda: carol.create_user(UserName="eve"))
    assert code == "AccessDenied"
    assert message.endswith("because no permissions boundary allows the iam:CreateUser action")
    iam.delete_user_permissions_boundary(UserName="carol")
    assert "PermissionsBoundary" not in iam.get_user(UserName="carol")["User"]
    carol.create_user(UserName="eve")


def test_create_user_with_a_boundary__keeps_it_and_enforces_it(lab):
    iam = lab.client("iam")
    iam.create_user(UserName="intern", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert iam.get_user(UserName="intern")["User"]["PermissionsBoundary"]["PermissionsBoundaryType"] == "Policy"
    iam.add_user_to_group(GroupName="admins", UserName="intern")
    intern = lab.session_as("intern")
    assert intern.client("s3").list_buckets()["Buckets"]
    assert refused(lambda: intern.client("iam").list_users())[0] == "AccessDenied"


def test_boundary_that_does_not_exist__is_refused(lab):
    code, _ = refused(lambda: lab.client("iam").put_user_permissions_boundary(
        UserName="carol", PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/NoSuchPolicy"))
    assert code == "NoSuchEntity"


def test_role_session__gets_the_roles_policies_and_no_more(lab):
    grant(lab, "bob", allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/ops-role"))
    iam = lab.client("iam")
    iam.create_role(RoleName="ops-role", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "Action": "sts:AssumeRole"}))
    iam.attach_role_policy(RoleName="ops-role", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    credentials = lab.session_as("bob").client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ops-role", RoleSessionName="bob-ops")["Credentials"]
    ops = session_from(credentials)
    assert ops.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ops-role/bob-ops"
    assert ops.client("iam").list_users()["Users"]
    code, message = refused(lambda: ops.client("s3").list_buckets())  # bob's own S3 access is not the role's
    assert message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/ops-role/bob-ops is not authorized to perform: s3:ListAllMyBuckets")


def test_session_policy__limits_the_role_session(lab):
    grant(lab, "bob", allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/ops-role"))
    iam = lab.client("iam")
    iam.create_role(RoleName="ops-role", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}))
    iam.attach_role_policy(RoleName="ops-role", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sts = lab.session_as("bob").client("sts")
    limited = session_from(sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ops-role", RoleSessionName="s3-only",
        Policy=policy(allow("s3:ListAllMyBuckets")))["Credentials"])
    assert limited.client("s3").list_buckets()["Buckets"]
    code, message = refused(lambda: limited.client("iam").list_users())
    assert message.endswith("because no session policy allows the iam:ListUsers action")
    by_arn = session_from(sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ops-role", RoleSessionName="iam-only",
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}])["Credentials"])
    assert by_arn.client("iam").list_users()["Users"]
    assert refused(lambda: by_arn.client("s3").list_buckets())[0] == "AccessDenied"


def test_bad_session_policy__is_refused_as_malformed(lab):
    grant(lab, "bob", allow("sts:AssumeRole"))
    lab.client("iam").create_role(RoleName="ops-role", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}))
    code, _ = refused(lambda: lab.session_as("bob").client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ops-role", RoleSessionName="bad", Policy='{"Statement": "nope"}'))
    assert code == "MalformedPolicyDocument"


def test_bucket_policy_naming_a_user__grants_access_in_the_same_account(lab):
    s3 = lab.client("s3")
    s3.put_bucket_policy(Bucket="acme-finance", Policy=policy(
        allow("s3:GetObject", "arn:aws:s3:::acme-finance/reports/*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/frank"})))
    frank = lab.session_as("frank").client("s3")
    assert frank.get_object(Bucket="acme-finance", Key="reports/2026-q3.csv")["Body"].read()
    assert refused(lambda: lab.session_as("dave").client("s3").put_object(Bucket="acme-finance", Key="x", Body=b"x"))[0] == "AccessDenied"


def test_explicit_deny_in_a_bucket_policy__wins_over_an_identity_allow(lab):
    lab.client("s3").put_bucket_policy(Bucket="acme-app-data", Policy=policy(
        deny("s3:PutObject", "arn:aws:s3:::acme-app-data/*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"})))
    code, message = refused(lambda: lab.session_as("alice").client("s3").put_object(Bucket="acme-app-data", Key="x", Body=b"x"))
    assert message.endswith("with an explicit deny in a resource-based policy")
    lab.session_as("bob").client("s3").put_object(Bucket="acme-app-data", Key="x", Body=b"x")


def test_cross_account_s3__needs_the_bucket_policy_and_the_identity_policy(lab):
    partner = lab.session_as("partner-app", account="partner").client("s3")
    assert partner.get_object(Bucket="acme-app-data", Key="releases/v1.4.2.txt")["Body"].read().startswith(b"Release")
    code, message = refused(lambda: partner.get_object(Bucket="acme-app-data", Key="config/app.json"))
    assert code == "AccessDenied"
    assert "user/partner-app is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::acme-app-data/config/app.json" in message


def test_kms_key_policy__must_allow(lab):
    kms = lab.client("kms")
    grant(lab, "frank", allow("kms:Encrypt"), allow("kms:DescribeKey"))
    open_key = kms.create_key()["KeyMetadata"]["KeyId"]  # default key policy: the account's IAM decides
    closed_key = kms.create_key(Policy=policy(
        allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/carol"})))["KeyMetadata"]["KeyId"]
    frank = lab.session_as("frank").client("kms")
    assert frank.encrypt(KeyId=open_key, Plaintext=b"secret")["CiphertextBlob"]
    code, _ = refused(lambda: frank.encrypt(KeyId=closed_key, Plaintext=b"secret"))
    assert code == "AccessDeniedException"


def test_sqs_queue_policy__grants_across_accounts(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
    lab.client("iam", account="partner").put_user_policy(UserName="partner-app", PolicyName="sqs", PolicyDocument=policy(allow("sqs:SendMessage", arn)))
    partner = lab.session_as("partner-app", account="partner").client("sqs")
    assert refused(lambda: partner.send_message(QueueUrl=url, MessageBody="hi"))[0] in ("AccessDenied", "AccessDeniedException")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(
        allow("sqs:SendMessage", arn, Principal={"AWS": "arn:aws:iam::444455556666:root"}))})
    assert partner.send_message(QueueUrl=url, MessageBody="hi")["MessageId"]


# -- trust policies -------------------------------------------------------------------------------


def _role_trusting(lab, name, principal, condition=None):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    lab.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=policy(statement))
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_trust_in_alice_admin__does_not_admit_alice(lab):
    arn = _role_trusting(lab, "break-glass", {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice-admin"})
    for user in ("alice", "alice-admin"):
        grant(lab, user, allow("sts:AssumeRole", arn))
    lab.session_as("alice-admin").client("sts").assume_role(RoleArn=arn, RoleSessionName="ok")
    code, message = refused(lambda: lab.session_as("alice").client("sts").assume_role(RoleArn=arn, RoleSessionName="no"))
    assert code == "AccessDenied" and f"user/alice is not authorized to perform: sts:AssumeRole on resource: {arn}" in message


def test_trust_in_the_account__admits_users_whose_policy_allows(lab):
    arn = _role_trusting(lab, "shared", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    assert refused(lambda: lab.session_as("frank").client("sts").assume_role(RoleArn=arn, RoleSessionName="no"))[0] == "AccessDenied"
    grant(lab, "frank", allow("sts:AssumeRole", arn))
    lab.session_as("frank").client("sts").assume_role(RoleArn=arn, RoleSessionName="yes")


def test_cross_account_assume_role__needs_the_external_id(lab):
    sts = lab.session_as("audit-bot", account="audit").client("sts")
    arn = f"arn:aws:iam::{ACCOUNT}:role/auditor-role"
    assert refused(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="audit"))[0] == "AccessDenied"
    assert refused(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="audit", ExternalId="guess"))[0] == "AccessDenied"
    auditor = session_from(sts.assume_role(RoleArn=arn, RoleSessionName="audit", ExternalId="acme-audit-2026")["Credentials"])
    assert auditor.client("iam").list_users()["Users"]
    assert refused(lambda: auditor.client("iam").create_user(UserName="x1"))[0] == "AccessDenied"


def test_root_user__cannot_assume_roles(lab):
    code, message = refused(lambda: lab.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/auditor-role", RoleSessionName="root"))
    assert (code, message) == ("AccessDenied", "Roles may not be assumed by root accounts.")


# -- MFA -------------------------------------------------------------------------------------------


def _mfa_for(lab, user):
    iam = lab.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-phone")["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    seed = seed.decode() if isinstance(seed, bytes) else seed
    import time

    now = time.time()
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp(seed, at=now - 30), AuthenticationCode2=totp(seed, at=now))
    return device["SerialNumber"], seed


def test_enable_mfa_device__checks_the_codes(lab):
    device = lab.client("iam").create_virtual_mfa_device(VirtualMFADeviceName="bad")["VirtualMFADevice"]
    code, _ = refused(lambda: lab.client("iam").enable_mfa_device(
        UserName="alice", SerialNumber=device["SerialNumber"], AuthenticationCode1="000000", AuthenticationCode2="111111"))
    assert code == "InvalidAuthenticationCode"


def test_session_token_with_mfa__satisfies_an_mfa_condition(lab):
    serial, seed = _mfa_for(lab, "frank")
    grant(lab, "frank", allow("s3:ListAllMyBuckets", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    sts = lab.session_as("frank").client("sts")
    assert refused(lambda: lab.session_as("frank").client("s3").list_buckets())[0] == "AccessDenied"
    plain = session_from(sts.get_session_token()["Credentials"])
    assert refused(lambda: plain.client("s3").list_buckets())[0] == "AccessDenied"
    with_mfa = session_from(sts.get_session_token(SerialNumber=serial, TokenCode=totp(seed))["Credentials"])
    assert with_mfa.client("s3").list_buckets()["Buckets"]


def test_session_token_with_a_wrong_code__is_refused(lab):
    serial, seed = _mfa_for(lab, "frank")
    wrong = f"{(int(totp(seed)) + 500000) % 1000000:06d}"
    code, message = refused(lambda: lab.session_as("frank").client("sts").get_session_token(SerialNumber=serial, TokenCode=wrong))
    assert code == "AccessDenied" and "MultiFactorAuthentication failed" in message


def test_trust_policy_requiring_mfa(lab):
    serial, seed = _mfa_for(lab, "bob")
    arn = _role_trusting(lab, "admin-mfa", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    grant(lab, "bob", allow("sts:AssumeRole", arn))
    sts = lab.session_as("bob").client("sts")
    assert refused(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="no-mfa"))[0] == "AccessDenied"
    sts.assume_role(RoleArn=arn, RoleSessionName="mfa", SerialNumber=serial, TokenCode=totp(seed))


def test_session_token_credentials__are_real_and_belong_to_the_user(lab):
    credentials = lab.session_as("alice").client("sts").get_session_token()["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["AccessKeyId"] != "AKIAIOSFODNN7EXAMPLE"
    session = session_from(credentials)
    assert session.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert session.client("s3").list_buckets()["Buckets"]


def test_session_token_without_mfa__cannot_call_iam(lab):
    serial, seed = _mfa_for(lab, "carol")
    sts = lab.session_as("carol").client("sts")
    plain = session_from(sts.get_session_token()["Credentials"])
    code, message = refused(lambda: plain.client("iam").list_users())
    assert code == "AccessDenied" and "cannot call IAM unless MFA" in message
    assert refused(lambda: plain.client("sts").get_session_token())[0] == "AccessDenied"
    with_mfa = session_from(sts.get_session_token(SerialNumber=serial, TokenCode=totp(seed))["Credentials"])
    assert with_mfa.client("iam").list_users()["Users"]


def test_federation_token__is_the_intersection_of_user_and_passed_policy(lab):
    grant(lab, "frank", allow("s3:ListAllMyBuckets"), allow("iam:ListUsers"), allow("sts:GetFederationToken"))
    sts = lab.session_as("frank").client("sts")
    federated = session_from(sts.get_federation_token(Name="contractor", Policy=policy(allow("s3:*")))["Credentials"])
    assert federated.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/contractor"
    assert federated.client("s3").list_buckets()["Buckets"]
    assert refused(lambda: federated.client("iam").list_users())[0] == "AccessDenied"


# -- organizations ---------------------------------------------------------------------------------


def _attach_scp(lab, document, target_name="workloads"):
    orgs = lab.client("organizations", account="management")
    root = orgs.list_roots()["Roots"][0]["Id"]
    unit = next(u for u in orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"] if u["Name"] == target_name)
    made = orgs.create_policy(Name="TestScp", Description="test", Type="SERVICE_CONTROL_POLICY", Content=document)
    orgs.attach_policy(PolicyId=made["Policy"]["PolicySummary"]["Id"], TargetId=unit["Id"])


def test_scp_deny__caps_even_an_administrator_of_a_member_account(lab):
    carol = lab.session_as("carol").client("iam")
    carol.create_user(UserName="before-scp")
    _attach_scp(lab, policy(deny("iam:CreateUser")))
    code, message = refused(lambda: carol.create_user(UserName="after-scp"))
    assert message.endswith("with an explicit deny in a service control policy")


def test_scps__do_not_apply_to_the_management_account(lab):
    _attach_scp(lab, policy(deny("s3:*")))
    iam = lab.client("iam", account="management")
    iam.create_user(UserName="ops")
    iam.put_user_policy(UserName="ops", PolicyName="s3", PolicyDocument=policy(allow("s3:ListAllMyBuckets")))
    assert lab.session_as("ops", account="management").client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert refused(lambda: lab.session_as("alice").client("s3").list_buckets())[0] == "AccessDenied"


# -- request context -------------------------------------------------------------------------------


def test_source_ip__is_settable_and_conditions_see_it(lab):
    grant(lab, "frank", allow("s3:ListAllMyBuckets", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    assert lab.session_as("frank", source_ip="203.0.113.5").client("s3").list_buckets()["Buckets"]
    assert refused(lambda: lab.session_as("frank", source_ip="198.51.100.7").client("s3").list_buckets())[0] == "AccessDenied"


def test_requested_region__limits_calls(lab):
    grant(lab, "frank", allow("dynamodb:ListTables", Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}}))
    frank = lab.session_as("frank")
    frank.client("dynamodb", region_name="us-east-1").list_tables()
    assert refused(lambda: frank.client("dynamodb", region_name="eu-west-1").list_tables())[0] == "AccessDeniedException"


def test_username_variable__gives_each_user_a_home_folder(lab):
    statement = allow("s3:PutObject", "arn:aws:s3:::acme-sandbox/home/${aws:username}/*")
    lab.client("iam").put_group_policy(GroupName="finance", PolicyName="home", PolicyDocument=policy(statement))
    erin = lab.session_as("erin").client("s3")
    erin.put_object(Bucket="acme-sandbox", Key="home/erin/notes.txt", Body=b"mine")
    assert refused(lambda: erin.put_object(Bucket="acme-sandbox", Key="home/alice/notes.txt", Body=b"theirs"))[0] == "AccessDenied"


def test_s3_prefix__is_in_the_context_of_list_calls(lab):
    grant(lab, "frank", allow("s3:ListBucket", "arn:aws:s3:::acme-telemetry", Condition={"StringLike": {"s3:prefix": "raw/*"}}))
    s3 = lab.session_as("frank").client("s3")
    assert s3.list_objects_v2(Bucket="acme-telemetry", Prefix="raw/2026")["KeyCount"] == 1
    assert refused(lambda: s3.list_objects_v2(Bucket="acme-telemetry", Prefix="processed/"))[0] == "AccessDenied"


def test_principal_and_resource_tags__drive_abac(lab):
    statement = allow("s3:ListBucket", "*", Condition={"StringEquals": {"aws:ResourceTag/data-classification": "${aws:PrincipalTag/clearance}"}})
    grant(lab, "frank", statement)
    lab.client("iam").tag_user(UserName="frank", Tags=[{"Key": "clearance", "Value": "internal"}])
    s3 = lab.session_as("frank").client("s3")
    assert s3.list_objects_v2(Bucket="acme-app-data")["KeyCount"] == 2  # tagged internal
    assert refused(lambda: s3.list_objects_v2(Bucket="acme-finance"))[0] == "AccessDenied"  # confidential


def test_request_tags__are_in_the_context_of_tagging_calls(lab):
    grant(lab, "frank", allow(["iam:CreateUser", "iam:TagUser"], Condition={"StringEquals": {"aws:RequestTag/team": "telemetry"}}))
    iam = lab.session_as("frank").client("iam")
    iam.create_user(UserName="tagged", Tags=[{"Key": "team", "Value": "telemetry"}])
    assert refused(lambda: iam.create_user(UserName="untagged"))[0] == "AccessDenied"


def test_current_time__is_in_the_context(lab):
    grant(lab, "frank", allow("s3:ListAllMyBuckets", Condition={"DateLessThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}))
    code, message = refused(lambda: lab.session_as("frank").client("s3").list_buckets())
    assert code == "AccessDenied"


# -- credentials -----------------------------------------------------------------------------------


def test_deleted_access_key__stops_working(lab):
    session = lab.session_as("alice")
    key = session.get_credentials().access_key
    lab.client("iam").delete_access_key(UserName="alice", AccessKeyId=key)
    assert refused(lambda: session.client("s3").list_buckets())[0] == "InvalidClientTokenId"


def test_expired_session_credentials__stop_working(lab):
    credentials = lab.session_as("alice").client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    session = session_from(credentials)
    assert session.client("s3").list_buckets()["Buckets"]
    lab.clock.advance(minutes=16)
    code, message = refused(lambda: session.client("s3").list_buckets())
    assert (code, message) == ("ExpiredToken", "The security token included in the request is expired")


def test_rcp__keeps_principals_outside_the_organization_out(lab):
    orgs = lab.client("organizations", account="management")
    org_id = orgs.describe_organization()["Organization"]["Id"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    document = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
                       "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org_id}}})
    orgs.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")
    made = orgs.create_policy(Name="OrgOnly", Description="only the org", Type="RESOURCE_CONTROL_POLICY", Content=document)
    orgs.attach_policy(PolicyId=made["Policy"]["PolicySummary"]["Id"], TargetId=root)
    partner = lab.session_as("partner-app", account="partner").client("s3")
    code, message = refused(lambda: partner.get_object(Bucket="acme-app-data", Key="releases/v1.4.2.txt"))
    assert message.endswith("with an explicit deny in a resource control policy")
    assert lab.session_as("alice").client("s3").get_object(Bucket="acme-app-data", Key="releases/v1.4.2.txt")["Body"].read()


def test_sns_topic_policy__grants_publish_across_accounts(lab):
    sns = lab.client("sns")
    arn = sns.create_topic(Name="releases")["TopicArn"]
    lab.client("iam", account="partner").put_user_policy(UserName="partner-app", PolicyName="sns", PolicyDocument=policy(allow("sns:Publish", arn)))
    partner = lab.session_as("partner-app", account="partner").client("sns")
    assert refused(lambda: partner.publish(TopicArn=arn, Message="hi"))[0] == "AccessDenied"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy(
        allow("sns:Publish", arn, Principal={"AWS": "arn:aws:iam::444455556666:root"})))
    assert partner.publish(TopicArn=arn, Message="hi")["MessageId"]


def test_explicit_deny_in_an_identity_policy__is_named_in_the_message(lab):
    grant(lab, "carol", deny("iam:DeleteUser"), name="no-deletes")
    code, message = refused(lambda: lab.session_as("carol").client("iam").delete_user(UserName="frank"))
    assert (code, message) == ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/carol is not authorized to perform: "
                               f"iam:DeleteUser on resource: arn:aws:iam::{ACCOUNT}:user/frank with an explicit deny in an identity-based policy")


def test_s3_encryption_header__is_a_condition_key(lab):
    grant(lab, "frank", allow("s3:PutObject", "arn:aws:s3:::acme-sandbox/*",
                              Condition={"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}))
    s3 = lab.session_as("frank").client("s3")
    s3.put_object(Bucket="acme-sandbox", Key="secret.txt", Body=b"x", ServerSideEncryption="aws:kms")
    assert refused(lambda: s3.put_object(Bucket="acme-sandbox", Key="plain.txt", Body=b"x"))[0] == "AccessDenied"


def test_tag_keys__limit_which_tags_a_call_may_set(lab):
    grant(lab, "frank", allow("iam:TagUser", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost-center"]}}))
    iam = lab.session_as("frank").client("iam")
    iam.tag_user(UserName="bob", Tags=[{"Key": "team", "Value": "telemetry"}])
    assert refused(lambda: iam.tag_user(UserName="bob", Tags=[{"Key": "admin", "Value": "yes"}]))[0] == "AccessDenied"


def test_secure_transport__is_true_for_sdk_calls(lab):
    grant(lab, "frank", allow("s3:ListAllMyBuckets", Condition={"Bool": {"aws:SecureTransport": "true"}}))
    assert lab.session_as("frank").client("s3").list_buckets()["Buckets"]


def test_lambda_function_policy__grants_across_accounts(lab):
    role = lab.client("iam").get_role(RoleName="app-server-role")["Role"]["Arn"]
    awslambda = lab.client("lambda")
    arn = awslambda.create_function(FunctionName="release-notes", Runtime="python3.12", Role=role, Handler="app.handler",
                                    Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})["FunctionArn"]
    lab.client("iam", account="partner").put_user_policy(UserName="partner-app", PolicyName="lambda", PolicyDocument=policy(allow("lambda:GetFunction", arn)))
    partner = lab.session_as("partner-app", account="partner").client("lambda")
    assert refused(lambda: partner.get_function(FunctionName=arn))[0] == "AccessDeniedException"
    awslambda.add_permission(FunctionName="release-notes", StatementId="partner", Action="lambda:GetFunction", Principal="444455556666")
    assert partner.get_function(FunctionName=arn)["Configuration"]["FunctionName"] == "release-notes"
