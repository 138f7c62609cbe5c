"""The trail: every call made in a lab, with who, what, the decision and when, kept cheaply."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from labkit.trail import Trail

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server

CLOSE = timedelta(minutes=1)


def _record(operation: str = "ListUsers", *, when: datetime | None = None) -> SimpleNamespace:
    call = SimpleNamespace(service="iam", operation=operation, params={}, access_key=None, region="us-east-1")
    return SimpleNamespace(time=when or datetime.now(timezone.utc), call=call, caller=None, action=None, resource=None,
                           decision="unauthenticated", error_code="InvalidClientTokenId", error_message="bad",
                           source_ip="127.0.0.1")


def test_record__keeps_a_denied_call_with_its_decision_and_error(lab) -> None:
    with pytest.raises(ClientError):
        lab.session_as("frank").client("iam").list_users()
    event = lab.trail.events(username="frank")[0]
    assert (event.event_name, event.action, event.decision) == ("ListUsers", "iam:ListUsers", "implicitDeny")
    assert event.error_code == "AccessDenied"
    assert "is not authorized to perform: iam:ListUsers" in event.error_message
    assert event.event_source == "iam.amazonaws.com"
    assert event.principal_arn == "arn:aws:iam::123456789012:user/frank"


def test_record__keeps_an_allowed_call_that_moto_served(lab) -> None:
    lab.session_as("alice").client("s3").list_buckets()
    event = lab.trail.events(username="alice", event_name="ListBuckets")[0]
    assert event.decision == "allowed" and event.error_code is None
    assert event.action == "s3:ListAllMyBuckets" and event.read_only


def test_record__keeps_an_error_moto_answered(lab) -> None:
    with pytest.raises(ClientError):
        lab.client("iam").get_user(UserName="nobody")
    event = lab.trail.events(event_name="GetUser")[0]
    assert (event.decision, event.error_code, event.username) == ("allowed", "NoSuchEntity", "root")


def test_record__keeps_the_source_ip_and_access_key(lab) -> None:
    session = lab.session_as("alice", source_ip="203.0.113.7")
    session.client("s3").list_buckets()
    event = lab.trail.events(username="alice", event_name="ListBuckets")[0]
    assert event.source_ip == "203.0.113.7"
    assert event.access_key_id == session.get_credentials().access_key


def test_record__keeps_calls_with_unknown_keys_as_unauthenticated(lab) -> None:
    import boto3

    iam = boto3.client("iam", aws_access_key_id="AKIAFAKEFAKEFAKEFAKE", aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError):
        iam.list_users()
    event = lab.trail.events(event_name="ListUsers")[0]
    assert not event.authenticated and event.decision == "unauthenticated"
    assert event.error_code == "InvalidClientTokenId"


def test_event_time__follows_the_lab_clock(lab) -> None:
    lab.clock.advance(days=42)
    lab.client("iam").list_users()
    assert abs(lab.trail.events(event_name="ListUsers")[0].time - lab.clock.now()) < CLOSE


def test_events__filter_newest_first(lab) -> None:
    iam = lab.client("iam")
    iam.list_users()
    iam.list_groups()
    iam.list_users()
    names = [e.event_name for e in lab.trail.events(service="iam")][:3]
    assert names == ["ListUsers", "ListGroups", "ListUsers"]
    assert len(lab.trail.events(event_name="ListGroups")) == 1


def test_reset__clears_the_trail(lab) -> None:
    lab.client("iam").list_users()
    lab.reset()
    assert lab.trail.events(event_name="ListUsers") == []


def test_trail__keeps_at_most_maxlen_calls() -> None:
    trail = Trail(maxlen=3)
    for name in ("A", "B", "C", "D"):
        trail.record(_record(name))
    assert [e.event_name for e in trail] == ["B", "C", "D"]


def test_event_ids__are_stable_and_distinct() -> None:
    trail = Trail()
    trail.record(_record())
    trail.record(_record())
    first, second = list(trail)
    assert first.event_id == first.event_id and first.event_id != second.event_id


def test_s3_object_calls__are_data_events(lab) -> None:
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="trail-data-test")
    s3.put_object(Bucket="trail-data-test", Key="k", Body=b"x")
    assert not lab.trail.events(event_name="PutObject")[0].management
    assert lab.trail.events(event_name="CreateBucket")[0].management


def test_read_only__follows_the_access_level(lab) -> None:
    iam = lab.client("iam")
    iam.list_users()
    iam.create_user(UserName="grace")
    assert lab.trail.events(event_name="ListUsers")[0].read_only
    assert not lab.trail.events(event_name="CreateUser")[0].read_only


def test_repr_html__lists_recent_calls(lab) -> None:
    lab.client("iam").list_users()
    assert "ListUsers" in lab.trail._repr_html_()


@pytest.mark.kernel_only
def test_record__does_not_keep_payloads(lab) -> None:
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="trail-payload-test")
    s3.put_object(Bucket="trail-payload-test", Key="k", Body=b"x" * 1024)
    assert "Body" not in lab.trail.events(event_name="PutObject")[0].record.call.params
