"""labkit's extensions to moto: AWS managed policies built only when asked for."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from labkit.mockaws import aws_managed_policy_data


def test_managed_policy_data__is_found_by_name():
    data = aws_managed_policy_data("AdministratorAccess")
    assert data["Document"]["Statement"][0]["Action"] == "*"
    assert aws_managed_policy_data("NoSuchPolicy") is None


def test_managed_policies__are_built_lazily(lab):
    from moto.iam.models import iam_backends

    backend = iam_backends["123456789012"]["aws"]
    loaded = set(dict.keys(backend.managed_policies))
    assert len(loaded) < 50  # the seeded ones, not all ~1,600
    assert "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess" not in loaded
    lab.client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
    assert "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess" in dict.keys(backend.managed_policies)


def test_wrong_path_for_a_managed_policy__is_not_found(lab):
    with pytest.raises(ClientError) as err:
        lab.client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"


def test_detach_of_a_policy_not_attached__is_refused(lab):
    with pytest.raises(ClientError) as err:
        lab.client("iam").detach_user_policy(UserName="frank", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"


def test_attach_then_detach__counts_attachments(lab):
    iam = lab.client("iam")
    arn = "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"
    iam.attach_user_policy(UserName="frank", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    iam.detach_user_policy(UserName="frank", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0


def test_customer_policies__work_beside_aws_ones(lab):
    iam = lab.client("iam")
    arn = iam.create_policy(PolicyName="Mine", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}')["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="finance", PolicyArn=arn)
    local = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert sorted(local) == ["AcmeTelemetryWrite", "Mine"]
