"""labkit.actions for EC2, Lambda, DynamoDB, SQS, SNS, KMS, CloudWatch Logs, CloudWatch, Organizations."""

from __future__ import annotations

import pytest

from labkit.actions import Target, Unmapped, authorizations
from labkit.calls import ApiCall

ACCOUNT = "123456789012"
OTHER = "210987654321"
R = f"us-east-1:{ACCOUNT}"


def mapped(service: str, operation: str, **params: object) -> list[Target]:
    return authorizations(ApiCall(service, operation, dict(params), "AKIDEXAMPLE", "us-east-1", "json"),
                          account_id=ACCOUNT, region="us-east-1", caller_arn=f"arn:aws:iam::{ACCOUNT}:user/alice")


def pairs(service: str, operation: str, **params: object) -> list[tuple[str, str]]:
    return [(t.action, t.resource) for t in mapped(service, operation, **params)]


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("ec2", "DescribeInstances", {}, [("ec2:DescribeInstances", "*")]),
        ("ec2", "StopInstances", {"InstanceIds": ["i-1", "i-2"]},
         [("ec2:StopInstances", f"arn:aws:ec2:{R}:instance/i-1"), ("ec2:StopInstances", f"arn:aws:ec2:{R}:instance/i-2")]),
        ("ec2", "AttachVolume", {"InstanceId": "i-1", "VolumeId": "vol-1", "Device": "/dev/sdf"},
         [("ec2:AttachVolume", f"arn:aws:ec2:{R}:instance/i-1"), ("ec2:AttachVolume", f"arn:aws:ec2:{R}:volume/vol-1")]),
        ("ec2", "AuthorizeSecurityGroupIngress", {"GroupId": "sg-1"},
         [("ec2:AuthorizeSecurityGroupIngress", f"arn:aws:ec2:{R}:security-group/sg-1")]),
        ("ec2", "CreateVpc", {"CidrBlock": "10.0.0.0/16"}, [("ec2:CreateVpc", f"arn:aws:ec2:{R}:vpc/*")]),
        ("ec2", "DeleteTags", {"Resources": ["vol-9"]}, [("ec2:DeleteTags", f"arn:aws:ec2:{R}:volume/vol-9")]),
        ("lambda", "Invoke", {"FunctionName": "fn"}, [("lambda:InvokeFunction", f"arn:aws:lambda:{R}:function:fn")]),
        ("lambda", "Invoke", {"FunctionName": "fn", "Qualifier": "prod"},
         [("lambda:InvokeFunction", f"arn:aws:lambda:{R}:function:fn:prod")]),
        ("lambda", "GetFunction", {"FunctionName": f"arn:aws:lambda:us-east-1:{OTHER}:function:fn"},
         [("lambda:GetFunction", f"arn:aws:lambda:us-east-1:{OTHER}:function:fn")]),
        ("lambda", "ListFunctions", {}, [("lambda:ListFunctions", "*")]),
        ("dynamodb", "GetItem", {"TableName": "t", "Key": {"pk": {"S": "a"}}}, [("dynamodb:GetItem", f"arn:aws:dynamodb:{R}:table/t")]),
        ("dynamodb", "Query", {"TableName": "t", "IndexName": "byUser"},
         [("dynamodb:Query", f"arn:aws:dynamodb:{R}:table/t/index/byUser")]),
        ("dynamodb", "BatchWriteItem", {"RequestItems": {"a": [{"PutRequest": {"Item": {}}}], "b": [{"DeleteRequest": {"Key": {}}}]}},
         [("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{R}:table/a"), ("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{R}:table/b")]),
        ("dynamodb", "ExecuteStatement", {"Statement": 'UPDATE "Music" SET a=1 WHERE k=2'},
         [("dynamodb:PartiQLUpdate", f"arn:aws:dynamodb:{R}:table/Music")]),
        ("sqs", "SendMessage", {"QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs", "MessageBody": "x"},
         [("sqs:SendMessage", f"arn:aws:sqs:{R}:jobs")]),
        ("sqs", "DeleteMessageBatch", {"QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs", "Entries": []},
         [("sqs:DeleteMessage", f"arn:aws:sqs:{R}:jobs")]),
        ("sqs", "ListQueues", {}, [("sqs:ListQueues", "*")]),
        ("sns", "Publish", {"TopicArn": f"arn:aws:sns:{R}:alerts", "Message": "m"}, [("sns:Publish", f"arn:aws:sns:{R}:alerts")]),
        ("sns", "Publish", {"PhoneNumber": "+15550100", "Message": "m"}, [("sns:Publish", "*")]),
        ("sns", "CreateTopic", {"Name": "alerts"}, [("sns:CreateTopic", f"arn:aws:sns:{R}:alerts")]),
        ("sns", "Unsubscribe", {"SubscriptionArn": f"arn:aws:sns:{R}:alerts:5e2f"}, [("sns:Unsubscribe", f"arn:aws:sns:{R}:alerts")]),
        ("kms", "Encrypt", {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Plaintext": b"x"},
         [("kms:Encrypt", f"arn:aws:kms:{R}:key/1234abcd-12ab-34cd-56ef-1234567890ab")]),
        ("kms", "CreateKey", {}, [("kms:CreateKey", "*")]),
        ("kms", "CreateAlias", {"AliasName": "alias/app", "TargetKeyId": "k1"},
         [("kms:CreateAlias", f"arn:aws:kms:{R}:alias/app"), ("kms:CreateAlias", f"arn:aws:kms:{R}:key/k1")]),
        ("kms", "ReEncrypt", {"CiphertextBlob": b"?", "SourceKeyId": "k1", "DestinationKeyId": "k2"},
         [("kms:ReEncryptFrom", f"arn:aws:kms:{R}:key/k1"), ("kms:ReEncryptTo", f"arn:aws:kms:{R}:key/k2")]),
        ("logs", "CreateLogGroup", {"logGroupName": "/app/web"},
         [("logs:CreateLogGroup", f"arn:aws:logs:{R}:log-group:/app/web:log-stream:")]),
        ("logs", "PutLogEvents", {"logGroupName": "/app/web", "logStreamName": "i-1", "logEvents": []},
         [("logs:PutLogEvents", f"arn:aws:logs:{R}:log-group:/app/web:log-stream:i-1")]),
        ("logs", "TagResource", {"resourceArn": f"arn:aws:logs:{R}:log-group:/app/web", "tags": {"a": "b"}},
         [("logs:TagResource", f"arn:aws:logs:{R}:log-group:/app/web")]),
        ("logs", "DescribeLogGroups", {}, [("logs:DescribeLogGroups", "*")]),
        ("cloudwatch", "PutMetricAlarm", {"AlarmName": "cpu"}, [("cloudwatch:PutMetricAlarm", f"arn:aws:cloudwatch:{R}:alarm:cpu")]),
        ("cloudwatch", "DescribeAlarms", {}, [("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{R}:alarm:*")]),
        ("cloudwatch", "GetDashboard", {"DashboardName": "ops"},
         [("cloudwatch:GetDashboard", f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/ops")]),
        ("organizations", "ListAccounts", {}, [("organizations:ListAccounts", "*")]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_operation__maps_to_documented_action_and_resource(service: str, operation: str, params: dict, expected: list) -> None:
    assert pairs(service, operation, **params) == expected


# EC2 -----------------------------------------------------------------------------------------------


def test_run_instances__is_authorized_on_each_resource_it_uses() -> None:
    resources = {r for _, r in pairs("ec2", "RunInstances", ImageId="ami-1", MinCount=1, MaxCount=1,
                                     SubnetId="subnet-1", SecurityGroupIds=["sg-1"], KeyName="dev")}
    assert resources == {
        "arn:aws:ec2:us-east-1::image/ami-1", f"arn:aws:ec2:{R}:instance/*", f"arn:aws:ec2:{R}:network-interface/*",
        f"arn:aws:ec2:{R}:security-group/sg-1", f"arn:aws:ec2:{R}:subnet/subnet-1", f"arn:aws:ec2:{R}:volume/*",
        f"arn:aws:ec2:{R}:key-pair/dev",
    }


def test_run_instances__sets_instance_type_on_the_instance_only() -> None:
    targets = mapped("ec2", "RunInstances", ImageId="ami-1", InstanceType="t3.micro", MinCount=1, MaxCount=1)
    typed = {t.resource for t in targets if "ec2:InstanceType" in t.context}
    assert typed == {f"arn:aws:ec2:{R}:instance/*"}


def test_run_instances_with_tag_specifications__also_needs_create_tags_with_create_action() -> None:
    spec = [{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "dev"}]}]
    tagging = [t for t in mapped("ec2", "RunInstances", ImageId="ami-1", MinCount=1, MaxCount=1, TagSpecifications=spec)
               if t.action == "ec2:CreateTags"]
    assert [t.resource for t in tagging] == [f"arn:aws:ec2:{R}:instance/*"]
    assert tagging[0].context["ec2:CreateAction"] == "RunInstances"
    assert tagging[0].context["aws:RequestTag/env"] == "dev"


def test_run_instances_with_an_instance_profile__also_passes_its_role() -> None:
    passing = [t for t in mapped("ec2", "RunInstances", ImageId="ami-1", MinCount=1, MaxCount=1,
                                 IamInstanceProfile={"Name": "unknown-profile"}) if t.action == "iam:PassRole"]
    assert [t.context["iam:PassedToService"] for t in passing] == ["ec2.amazonaws.com"]


def test_create_tags_on_an_id_of_unknown_kind__raises_unmapped() -> None:
    with pytest.raises(Unmapped):
        mapped("ec2", "CreateTags", Resources=["zzz-1"], Tags=[])


def test_create_volume__sets_volume_keys_on_the_new_volume() -> None:
    volume = mapped("ec2", "CreateVolume", AvailabilityZone="us-east-1a", Size=8, VolumeType="gp3")[0]
    assert (volume.context["ec2:VolumeSize"], volume.context["ec2:VolumeType"]) == ("8", "gp3")


# Lambda, DynamoDB, SQS, SNS, KMS ---------------------------------------------------------------


def test_create_function__also_passes_its_role_to_lambda() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/exec"
    targets = mapped("lambda", "CreateFunction", FunctionName="fn", Role=role, Code={})
    assert [(t.action, t.resource) for t in targets][1] == ("iam:PassRole", role)
    assert targets[1].context["iam:PassedToService"] == "lambda.amazonaws.com"


def test_get_item__sets_leading_keys_and_attributes() -> None:
    context = mapped("dynamodb", "GetItem", TableName="t", Key={"pk": {"S": "u1"}}, ProjectionExpression="#n, age",
                     ExpressionAttributeNames={"#n": "name"})[0].context
    assert context["dynamodb:LeadingKeys"] == ("u1",)
    assert context["dynamodb:Attributes"] == ("name", "age")


def test_transact_write_items__needs_each_items_action() -> None:
    items = [{"Put": {"TableName": "a", "Item": {}}}, {"Delete": {"TableName": "b", "Key": {}}}]
    targets = mapped("dynamodb", "TransactWriteItems", TransactItems=items)
    assert [t.action for t in targets] == ["dynamodb:PutItem", "dynamodb:DeleteItem"]
    assert targets[0].context["dynamodb:EnclosingOperation"] == "TransactWriteItems"


def test_create_queue_with_tags__also_needs_tag_queue() -> None:
    assert [a for a, _ in pairs("sqs", "CreateQueue", QueueName="q", tags={"team": "red"})] == ["sqs:CreateQueue", "sqs:TagQueue"]


def test_queue_url_of_another_account__belongs_to_that_account() -> None:
    target = mapped("sqs", "SendMessage", QueueUrl=f"https://sqs.us-east-1.amazonaws.com/{OTHER}/jobs", MessageBody="x")[0]
    assert (target.resource, target.resource_account) == (f"arn:aws:sqs:us-east-1:{OTHER}:jobs", OTHER)


def test_subscribe__sets_protocol_and_endpoint() -> None:
    context = mapped("sns", "Subscribe", TopicArn=f"arn:aws:sns:{R}:t", Protocol="email", Endpoint="a@example.com")[0].context
    assert (context["sns:Protocol"], context["sns:Endpoint"]) == ("email", "a@example.com")


def test_encrypt_with_an_alias_unknown_to_the_lab__is_authorized_on_any_key_with_request_alias() -> None:
    target = mapped("kms", "Encrypt", KeyId="alias/app", Plaintext=b"x", EncryptionContext={"dept": "hr"})[0]
    assert target.resource == f"arn:aws:kms:{R}:key/*"
    assert target.context["kms:RequestAlias"] == "alias/app"
    assert target.context["kms:EncryptionContext:dept"] == "hr"
    assert target.context["kms:CallerAccount"] == ACCOUNT


def test_key_arn_of_another_account__belongs_to_that_account() -> None:
    key = f"arn:aws:kms:us-east-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert mapped("kms", "DescribeKey", KeyId=key)[0].resource_account == OTHER


def test_put_metric_data__sets_the_namespace() -> None:
    target = mapped("cloudwatch", "PutMetricData", Namespace="Shop", MetricData=[])[0]
    assert (target.resource, target.context["cloudwatch:namespace"]) == ("*", "Shop")


def test_organizations_outside_an_organization__uses_a_wildcard_organization_id() -> None:
    assert pairs("organizations", "DescribeAccount", AccountId=OTHER) == [
        ("organizations:DescribeAccount", f"arn:aws:organizations::{ACCOUNT}:account/o-*/{OTHER}")
    ]


def test_create_policy__sets_the_organizations_policy_type() -> None:
    target = mapped("organizations", "CreatePolicy", Name="n", Type="SERVICE_CONTROL_POLICY", Content="{}", Description="")[0]
    assert target.context["organizations:PolicyType"] == "SERVICE_CONTROL_POLICY"
