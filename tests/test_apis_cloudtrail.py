"""cloudtrail.lookup_events: the lab's Event history, as CloudTrail answers it."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from labkit.apis.cloudtrail import HIDDEN, request_parameters

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server


def _events(lab, **params) -> list[dict]:
    return lab.client("cloudtrail").lookup_events(**params)["Events"]


def _detail(event: dict) -> dict:
    return json.loads(event["CloudTrailEvent"])


def _error(caught: pytest.ExceptionInfo) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_lookup_events__shows_a_denied_call_with_its_error(lab) -> None:
    frank = lab.session_as("frank", source_ip="198.51.100.20")
    with pytest.raises(ClientError):
        frank.client("iam").list_users()
    event = _events(lab, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "frank"}])[0]
    detail = _detail(event)
    assert (event["EventName"], event["EventSource"], event["ReadOnly"]) == ("ListUsers", "iam.amazonaws.com", "true")
    assert event["AccessKeyId"] == frank.get_credentials().access_key
    assert detail["errorCode"] == "AccessDenied"
    assert detail["errorMessage"].startswith("User: arn:aws:iam::123456789012:user/frank is not authorized")
    assert detail["userIdentity"]["type"] == "IAMUser"
    assert detail["userIdentity"]["userName"] == "frank"
    assert detail["sourceIPAddress"] == "198.51.100.20"
    assert (detail["eventType"], detail["awsRegion"], detail["recipientAccountId"]) == ("AwsApiCall", "us-east-1", "123456789012")
    assert detail["eventID"] == event["EventId"]


def test_lookup_events__shows_root_calls_with_their_parameters(lab) -> None:
    lab.client("iam").create_user(UserName="grace")
    event = _events(lab, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])[0]
    detail = _detail(event)
    assert event["Username"] == "root" and detail["userIdentity"]["type"] == "Root"
    assert detail["requestParameters"] == {"userName": "grace"}
    assert detail["readOnly"] is False and "errorCode" not in detail
    assert event["Resources"] == [{"ResourceType": "AWS::IAM::User", "ResourceName": "grace"}]


def test_lookup_events__answers_newest_first(lab) -> None:
    iam = lab.client("iam")
    iam.list_users()
    iam.list_groups()
    names = [e["EventName"] for e in _events(lab, LookupAttributes=[{"AttributeKey": "EventSource",
                                                                      "AttributeValue": "iam.amazonaws.com"}])]
    assert names[:2] == ["ListGroups", "ListUsers"]


@pytest.mark.parametrize("key, value, expected", [
    ("EventName", "ListGroups", {"ListGroups"}),
    ("ReadOnly", "false", {"CreateUser"}),
    ("ResourceName", "grace", {"CreateUser"}),
    ("ResourceType", "AWS::IAM::User", {"CreateUser"}),
])
def test_lookup_events__filters_by_one_attribute(lab, key: str, value: str, expected: set[str]) -> None:
    iam = lab.client("iam")
    iam.list_groups()
    iam.create_user(UserName="grace")
    found = {e["EventName"] for e in _events(lab, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])}
    assert found == expected


def test_lookup_events__filters_by_access_key_and_event_id(lab) -> None:
    alice = lab.session_as("alice")
    alice.client("s3").list_buckets()
    key = alice.get_credentials().access_key
    event = _events(lab, LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": key}])[0]
    assert event["EventName"] == "ListBuckets"
    again = _events(lab, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event["EventId"]}])
    assert [e["EventId"] for e in again] == [event["EventId"]]


def test_lookup_events__pages_with_next_token_without_repeats(lab) -> None:
    iam = lab.client("iam")
    for _ in range(60):
        iam.list_users()
    paginator = lab.client("cloudtrail").get_paginator("lookup_events")
    pages = list(paginator.paginate(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}],
                                    PaginationConfig={"PageSize": 25}))
    ids = [e["EventId"] for page in pages for e in page["Events"]]
    assert [len(p["Events"]) for p in pages] == [25, 25, 10]
    assert len(set(ids)) == 60


def test_lookup_events__answers_at_most_50_by_default(lab) -> None:
    iam = lab.client("iam")
    for _ in range(55):
        iam.list_users()
    response = lab.client("cloudtrail").lookup_events()
    assert len(response["Events"]) == 50 and "NextToken" in response


def test_lookup_events__records_lookups_without_showing_a_lookup_to_itself(lab) -> None:
    trail = lab.client("cloudtrail")
    first = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
    second = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
    assert first["Events"] == []
    assert len(second["Events"]) == 1
    assert second["Events"][0]["EventSource"] == "cloudtrail.amazonaws.com"
    assert second["Events"][0]["ReadOnly"] == "true"


def test_lookup_events__leaves_out_data_events(lab) -> None:
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="lookup-data-test")
    s3.put_object(Bucket="lookup-data-test", Key="k", Body=b"x")
    names = {e["EventName"] for e in _events(lab, LookupAttributes=[{"AttributeKey": "EventSource",
                                                                     "AttributeValue": "s3.amazonaws.com"}])}
    assert names == {"CreateBucket"}


def test_lookup_events__keeps_90_days(lab) -> None:
    lab.client("iam").list_users()
    lab.clock.advance(days=91)
    lab.client("iam").list_groups()
    names = {e["EventName"] for e in _events(lab)}
    assert "ListGroups" in names and "ListUsers" not in names


def test_lookup_events__filters_by_time_range(lab) -> None:
    lab.client("iam").list_users()
    lab.clock.advance(days=2)
    middle = lab.clock.now()
    lab.clock.advance(days=2)
    lab.client("iam").list_groups()
    before = {e["EventName"] for e in _events(lab, EndTime=middle)}
    after = {e["EventName"] for e in _events(lab, StartTime=middle)}
    assert "ListUsers" in before and "ListGroups" not in before
    assert "ListGroups" in after and "ListUsers" not in after


def test_lookup_events__needs_permission(lab) -> None:
    with pytest.raises(ClientError) as caught:
        lab.session_as("frank").client("cloudtrail").lookup_events()
    code, message = _error(caught)
    assert code == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in message


def test_lookup_events__refuses_two_attributes(lab) -> None:
    with pytest.raises(ClientError) as caught:
        _events(lab, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "A"},
                                       {"AttributeKey": "Username", "AttributeValue": "b"}])
    assert _error(caught) == ("InvalidLookupAttributesException", "You can specify only one lookup attribute per request.")


def test_lookup_events__refuses_an_unknown_attribute(lab) -> None:
    with pytest.raises(ClientError) as caught:
        _events(lab, LookupAttributes=[{"AttributeKey": "Color", "AttributeValue": "red"}])
    code, message = _error(caught)
    assert code == "InvalidLookupAttributesException" and "'Color' is not valid" in message


def test_lookup_events__refuses_start_after_end(lab) -> None:
    now = lab.clock.now()
    with pytest.raises(ClientError) as caught:
        _events(lab, StartTime=now, EndTime=now - timedelta(hours=1))
    assert _error(caught) == ("InvalidTimeRangeException", "Start time must be before end time.")


def test_lookup_events__refuses_more_than_50_results(lab) -> None:
    with pytest.raises(ClientError) as caught:
        _events(lab, MaxResults=51)
    assert _error(caught) == ("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")


def test_lookup_events__refuses_a_token_from_another_query(lab) -> None:
    iam = lab.client("iam")
    for _ in range(3):
        iam.list_users()
    token = lab.client("cloudtrail").lookup_events(MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as caught:
        _events(lab, NextToken=token, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}])
    assert _error(caught)[0] == "InvalidNextTokenException"


def test_request_parameters__hide_secrets_and_leave_payloads_out() -> None:
    shaped = request_parameters("iam", {"UserName": "bob", "Password": "hunter2", "PasswordResetRequired": True,
                                        "Tags": [{"Key": "a", "Value": "b"}]})
    assert shaped == {"userName": "bob", "password": HIDDEN, "passwordResetRequired": True,
                      "tags": [{"key": "a", "value": "b"}]}
    assert request_parameters("s3", {"Bucket": "b", "Key": "k", "Body": io.BytesIO(b"x")}) == {"bucketName": "b", "key": "k"}
    assert request_parameters("iam", {}) is None


def _auditor_session(lab):
    import boto3

    bot = lab.session_as("audit-bot", account="audit")
    credentials = bot.client("sts").assume_role(RoleArn="arn:aws:iam::123456789012:role/auditor-role",
                                                RoleSessionName="nightly", ExternalId="acme-audit-2026")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name="us-east-1")


def test_lookup_events__shows_only_the_callers_account(lab) -> None:
    lab.client("iam", account="audit").list_groups()
    assert "ListGroups" not in {e["EventName"] for e in _events(lab)}
    assert "ListGroups" in {e["EventName"] for e in lab.client("cloudtrail", account="audit").lookup_events()["Events"]}


def test_lookup_events__shows_a_role_session_as_assumed_role(lab) -> None:
    _auditor_session(lab).client("iam").list_users()
    event = _events(lab, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "nightly"}])[0]
    identity = _detail(event)["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/auditor-role/nightly"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == "arn:aws:iam::123456789012:role/auditor-role"


def test_lookup_events__logs_a_cross_account_assume_role_in_both_accounts(lab) -> None:
    _auditor_session(lab)
    by_name = [{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}]
    in_role_account = _detail(_events(lab, LookupAttributes=by_name)[0])
    in_caller_account = _detail(lab.client("cloudtrail", account="audit").lookup_events(LookupAttributes=by_name)["Events"][0])
    assert in_role_account["userIdentity"] == {"type": "AWSAccount", "principalId": in_caller_account["userIdentity"]["principalId"],
                                               "accountId": "111122223333"}
    assert in_role_account["recipientAccountId"] == "123456789012"
    assert in_caller_account["userIdentity"]["userName"] == "audit-bot"
    assert in_caller_account["eventID"] == in_role_account["eventID"]


def test_lookup_events__pages_do_not_pick_up_the_lookups_made_while_paging(lab) -> None:
    iam = lab.client("iam")
    for _ in range(30):
        iam.list_users()
    pages = list(lab.client("cloudtrail").get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 10}))
    names = [e["EventName"] for page in pages for e in page["Events"]]
    assert len(pages) >= 3 and "LookupEvents" not in names
