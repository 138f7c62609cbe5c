"""The lab clock: time moves forward without sleeping, and moto, the gate and the trail follow it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from labkit.clock import Clock
from labkit.errors import InvalidInput

CLOSE = timedelta(minutes=1)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def test_advance__moves_now_forward_without_sleeping() -> None:
    clock = Clock()
    before = clock.now()
    after = clock.advance(days=90, hours=1)
    assert timedelta(days=90, hours=1) <= after - before < timedelta(days=90, hours=1) + CLOSE
    assert clock.offset == timedelta(days=90, hours=1)


def test_advance__refuses_to_go_back() -> None:
    with pytest.raises(InvalidInput, match="only moves forward"):
        Clock().advance(days=-1)


def test_reset__returns_to_real_time() -> None:
    clock = Clock()
    clock.advance(days=3)
    clock.reset()
    assert abs(clock.now() - datetime.now(timezone.utc)) < CLOSE


def test_repr__says_how_far_ahead() -> None:
    clock = Clock()
    clock.advance(days=2, hours=3)
    assert "2 days 03:00:00 ahead of real time" in repr(clock)


def test_advance__dates_new_access_keys_in_lab_time(lab) -> None:
    lab.clock.advance(days=90)
    key = lab.client("iam").create_access_key(UserName="frank")["AccessKey"]
    assert abs(key["CreateDate"] - lab.clock.now()) < CLOSE


def test_advance__dates_new_users_and_policies_in_lab_time(lab) -> None:
    lab.clock.advance(days=30)
    iam = lab.client("iam")
    user = iam.create_user(UserName="grace")["User"]
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
    policy = iam.create_policy(PolicyName="Later", PolicyDocument=json.dumps(document))["Policy"]
    assert abs(user["CreateDate"] - lab.clock.now()) < CLOSE
    assert abs(policy["CreateDate"] - lab.clock.now()) < CLOSE


def test_gate_now__follows_the_clock(lab) -> None:
    lab.clock.advance(days=10)
    assert abs(lab.account.gate.now() - lab.clock.now()) < CLOSE


def test_current_time_condition__follows_the_clock(lab) -> None:
    deadline = (lab.clock.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
                 "Condition": {"DateLessThan": {"aws:CurrentTime": deadline}}}
    lab.client("iam").put_user_policy(UserName="frank", PolicyName="UntilDeadline",
                                      PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    frank = lab.session_as("frank").client("iam")
    frank.list_users()
    lab.clock.advance(days=31)
    with pytest.raises(ClientError) as caught:
        frank.list_users()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_reset__sets_the_clock_back_to_real_time(lab) -> None:
    lab.clock.advance(days=400)
    lab.reset()
    assert lab.clock.offset == timedelta(0)
    key = lab.client("iam").create_access_key(UserName="frank")["AccessKey"]
    assert abs(key["CreateDate"] - datetime.now(timezone.utc)) < CLOSE


def test_stop__gives_moto_its_own_utcnow_back() -> None:
    from moto.core import utils

    from labkit import Lab

    original = utils.utcnow
    with Lab() as lab:
        lab.clock.advance(days=5)
        import moto.iam.models as iam_models

        assert iam_models.utcnow is not original
        assert abs(_aware(iam_models.utcnow()) - lab.clock.now()) < CLOSE
    assert utils.utcnow is original
    assert iam_models.utcnow is original


def test_session_credentials__expire_with_the_clock(lab) -> None:
    import boto3

    issued = lab.session_as("dave").client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    session = boto3.Session(aws_access_key_id=issued["AccessKeyId"], aws_secret_access_key=issued["SecretAccessKey"],
                            aws_session_token=issued["SessionToken"], region_name="us-east-1")
    session.client("s3").list_buckets()
    lab.clock.advance(minutes=16)
    with pytest.raises(ClientError) as caught:
        session.client("s3").list_buckets()
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ExpiredToken", "The security token included in the request is expired")
