"""labkit.actions against a running Lab: resource tags and policies read from moto, lab-state lookups."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from labkit.actions import authorizations, resource_policy, resource_tags
from labkit.calls import ApiCall

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _policy(action: str, resource: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource}]})


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[Any, dict[str, str]]]:
    """A lab holding one tagged resource of each kind, with resource policies where they exist."""
    from labkit import Lab

    with Lab() as lab:
        a, r = lab.account_id, lab.region
        iam, s3, ec2 = lab.client("iam"), lab.client("s3"), lab.client("ec2")
        arns: dict[str, str] = {}
        arns["user"] = iam.create_user(UserName="tagged", Path="/eng/", Tags=[{"Key": "k", "Value": "user"}])["User"]["Arn"]
        arns["role"] = iam.create_role(RoleName="tagged-role", AssumeRolePolicyDocument=json.dumps(TRUST),
                                       Tags=[{"Key": "k", "Value": "role"}])["Role"]["Arn"]
        arns["policy"] = iam.create_policy(PolicyName="tagged-policy", PolicyDocument=_policy("s3:*", "*").replace(
            '"Principal": "*", ', ""), Tags=[{"Key": "k", "Value": "policy"}])["Policy"]["Arn"]
        iam.create_instance_profile(InstanceProfileName="web")
        iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="tagged-role")
        s3.create_bucket(Bucket="labkit-tagged")
        s3.put_bucket_tagging(Bucket="labkit-tagged", Tagging={"TagSet": [{"Key": "k", "Value": "bucket"}]})
        s3.put_bucket_policy(Bucket="labkit-tagged", Policy=_policy("s3:GetObject", "arn:aws:s3:::labkit-tagged/*"))
        s3.put_object(Bucket="labkit-tagged", Key="docs/a.txt", Body=b"x", Tagging="k=object")
        arns["bucket"], arns["object"] = "arn:aws:s3:::labkit-tagged", "arn:aws:s3:::labkit-tagged/docs/a.txt"
        image = ec2.describe_images()["Images"][0]["ImageId"]
        spec = [{"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "instance"}]}]
        instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=spec)["Instances"][0]
        arns["instance"] = f"arn:aws:ec2:{r}:{a}:instance/{instance['InstanceId']}"
        spec = [{"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "volume"}]}]
        arns["volume"] = f"arn:aws:ec2:{r}:{a}:volume/" + ec2.create_volume(
            AvailabilityZone=f"{r}a", Size=1, TagSpecifications=spec)["VolumeId"]
        arns["table"] = lab.client("dynamodb").create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST", Tags=[{"Key": "k", "Value": "table"}],
            KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"}, {"AttributeName": "id", "AttributeType": "S"}],
        )["TableDescription"]["TableArn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("h.py", "def h(event, context):\n    return 1\n")
        awslambda = lab.client("lambda")
        arns["function"] = awslambda.create_function(FunctionName="tagged-fn", Runtime="python3.12", Role=arns["role"],
                                                     Handler="h.h", Code={"ZipFile": code.getvalue()},
                                                     Tags={"k": "function"})["FunctionArn"]
        awslambda.add_permission(FunctionName="tagged-fn", StatementId="sns", Action="lambda:InvokeFunction",
                                 Principal="sns.amazonaws.com")
        lab.client("sqs").create_queue(QueueName="jobs", tags={"k": "queue"},
                                       Attributes={"Policy": _policy("sqs:SendMessage", f"arn:aws:sqs:{r}:{a}:jobs")})
        arns["queue"] = f"arn:aws:sqs:{r}:{a}:jobs"
        arns["topic"] = lab.client("sns").create_topic(Name="alerts", Tags=[{"Key": "k", "Value": "topic"}])["TopicArn"]
        kms = lab.client("kms")
        arns["key"] = kms.create_key(Tags=[{"TagKey": "k", "TagValue": "key"}])["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName="alias/app", TargetKeyId=arns["key"])
        lab.client("logs").create_log_group(logGroupName="/app/web", tags={"k": "log-group"})
        arns["log-group"] = f"arn:aws:logs:{r}:{a}:log-group:/app/web:log-stream:"
        yield lab, arns


def _map(lab: Any, service: str, operation: str, **params: Any) -> list[Any]:
    call = ApiCall(service, operation, params, "AKIDEXAMPLE", lab.region, "json")
    return authorizations(call, account_id=lab.account_id, region=lab.region,
                          caller_arn=f"arn:aws:iam::{lab.account_id}:user/alice")


@pytest.mark.parametrize("kind", ["user", "role", "policy", "bucket", "object", "instance", "volume", "table",
                                  "function", "queue", "topic", "key", "log-group"])
def test_resource_tags__reads_the_tags_moto_keeps(built: tuple[Any, dict[str, str]], kind: str) -> None:
    lab, arns = built
    assert resource_tags(arns[kind], account_id=lab.account_id, region=lab.region) == {"k": kind}


@pytest.mark.parametrize("arn", ["arn:aws:s3:::no-such-bucket", "arn:aws:iam::123456789012:user/nobody", "*",
                                 "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"])
def test_resource_tags__of_a_missing_or_unknown_resource_is_empty(built: tuple[Any, dict[str, str]], arn: str) -> None:
    lab, _ = built
    assert resource_tags(arn, account_id=lab.account_id, region=lab.region) == {}


@pytest.mark.parametrize(("kind", "fragment"), [("bucket", "s3:GetObject"), ("object", "s3:GetObject"),
                                                ("queue", "sqs:SendMessage"), ("topic", "SNS:Publish"),
                                                ("key", "kms:*"), ("function", "sns.amazonaws.com"),
                                                ("role", "ec2.amazonaws.com")])
def test_resource_policy__reads_the_document_aws_consults(built: tuple[Any, dict[str, str]], kind: str, fragment: str) -> None:
    lab, arns = built
    document = resource_policy(arns[kind], account_id=lab.account_id, region=lab.region)
    assert document is not None and fragment in document
    json.loads(document)


def test_resource_policy__of_a_role_for_an_iam_action_is_none(built: tuple[Any, dict[str, str]]) -> None:
    lab, arns = built
    assert resource_policy(arns["role"], account_id=lab.account_id, region=lab.region, action="iam:GetRole") is None
    assert resource_policy(arns["role"], account_id=lab.account_id, region=lab.region, action="sts:AssumeRole")


def test_resource_policy__of_a_resource_without_one_is_none(built: tuple[Any, dict[str, str]]) -> None:
    lab, arns = built
    assert resource_policy(arns["table"], account_id=lab.account_id, region=lab.region) is None
    assert resource_policy("arn:aws:s3:::no-such-bucket", account_id=lab.account_id, region=lab.region) is None


def test_user_with_a_path__is_authorized_on_its_arn_with_the_path(built: tuple[Any, dict[str, str]]) -> None:
    lab, arns = built
    assert _map(lab, "iam", "GetUser", UserName="tagged")[0].resource == arns["user"]


def test_kms_alias__is_authorized_on_the_key_it_names(built: tuple[Any, dict[str, str]]) -> None:
    lab, arns = built
    target = _map(lab, "kms", "Encrypt", KeyId="alias/app", Plaintext=b"x")[0]
    assert (target.resource, target.context["kms:RequestAlias"]) == (arns["key"], "alias/app")


def test_decrypt__is_authorized_on_the_key_the_ciphertext_names(built: tuple[Any, dict[str, str]]) -> None:
    lab, arns = built
    blob = lab.client("kms").encrypt(KeyId=arns["key"], Plaintext=b"secret")["CiphertextBlob"]
    assert _map(lab, "kms", "Decrypt", CiphertextBlob=blob)[0].resource == arns["key"]


def test_query__sets_leading_keys_from_the_tables_partition_key(built: tuple[Any, dict[str, str]]) -> None:
    lab, _ = built
    target = _map(lab, "dynamodb", "Query", TableName="orders", KeyConditionExpression="#c = :c AND id > :i",
                  ExpressionAttributeNames={"#c": "customer"},
                  ExpressionAttributeValues={":c": {"S": "alice"}, ":i": {"S": "0"}})[0]
    assert target.context["dynamodb:LeadingKeys"] == ("alice",)


def test_run_instances_with_a_lab_instance_profile__passes_its_role(built: tuple[Any, dict[str, str]]) -> None:
    lab, arns = built
    targets = _map(lab, "ec2", "RunInstances", ImageId="ami-1", MinCount=1, MaxCount=1, IamInstanceProfile={"Name": "web"})
    assert [t.resource for t in targets if t.action == "iam:PassRole"] == [arns["role"]]


def test_bucket_in_the_lab__belongs_to_the_lab_account(built: tuple[Any, dict[str, str]]) -> None:
    lab, _ = built
    assert _map(lab, "s3", "GetObject", Bucket="labkit-tagged", Key="docs/a.txt")[0].resource_account == lab.account_id


def test_organizations__uses_the_labs_organization_id(built: tuple[Any, dict[str, str]]) -> None:
    lab, _ = built
    org = lab.client("organizations")
    try:
        org_id = org.describe_organization()["Organization"]["Id"]
    except org.exceptions.AWSOrganizationsNotInUseException:
        org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    target = _map(lab, "organizations", "DescribeAccount", AccountId=lab.account_id)[0]
    assert f":account/{org_id}/{lab.account_id}" in target.resource
