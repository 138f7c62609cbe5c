"""IAM's usage data from the trail: access key last used, the credential report, service last accessed."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.both_modes  # the account in the kernel, and in a lab server

ACCOUNT = "123456789012"
CLOSE = timedelta(minutes=1)


def _report(lab) -> dict[str, dict[str, str]]:
    iam = lab.client("iam")
    iam.generate_credential_report()
    content = iam.get_credential_report()["Content"].decode()
    return {row["user"]: row for row in csv.DictReader(io.StringIO(content))}


def _last_used(lab, key_id: str) -> dict:
    return lab.client("iam").get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]


def _last_accessed(lab, arn: str, granularity: str = "SERVICE_LEVEL", client=None) -> dict[str, dict]:
    iam = client or lab.client("iam")
    job = iam.generate_service_last_accessed_details(Arn=arn, Granularity=granularity)["JobId"]
    details = iam.get_service_last_accessed_details(JobId=job)
    assert details["JobStatus"] == "COMPLETED"
    return {s["ServiceNamespace"]: s for s in details["ServicesLastAccessed"]}


# -- access key last used --------------------------------------------------------------------------


def test_get_access_key_last_used__reflects_a_call(lab) -> None:
    dave = lab.session_as("dave")  # an auditor: ReadOnlyAccess
    key = dave.get_credentials().access_key
    assert _last_used(lab, key) == {"Region": "N/A", "ServiceName": "N/A"}
    dave.client("iam").list_users()
    used = _last_used(lab, key)
    assert (used["ServiceName"], used["Region"]) == ("iam", "us-east-1")
    assert abs(used["LastUsedDate"] - lab.clock.now()) < CLOSE


def test_get_access_key_last_used__counts_denied_calls(lab) -> None:
    frank = lab.session_as("frank")
    with pytest.raises(ClientError):
        frank.client("iam").list_users()
    assert _last_used(lab, frank.get_credentials().access_key)["ServiceName"] == "iam"


def test_get_access_key_last_used__keeps_the_first_use_in_15_minutes(lab) -> None:
    dave = lab.session_as("dave")
    key = dave.get_credentials().access_key
    dave.client("iam").list_users()
    lab.clock.advance(minutes=5)
    dave.client("s3").list_buckets()
    assert _last_used(lab, key)["ServiceName"] == "iam"
    lab.clock.advance(minutes=15)
    dave.client("s3").list_buckets()
    used = _last_used(lab, key)
    assert (used["ServiceName"], used["Region"]) == ("s3", "N/A")  # S3 is not Region-specific
    assert abs(used["LastUsedDate"] - lab.clock.now()) < CLOSE


# -- credential report ------------------------------------------------------------------------------


def test_credential_report__ages_keys_with_the_lab_clock(lab) -> None:
    key = lab.client("iam").create_access_key(UserName="frank")["AccessKey"]
    lab.clock.advance(days=100)
    row = _report(lab)["frank"]
    rotated = datetime.fromisoformat(row["access_key_1_last_rotated"])
    assert row["access_key_1_active"] == "true"
    assert abs(rotated - key["CreateDate"]) < timedelta(seconds=1)
    assert abs((lab.clock.now() - rotated) - timedelta(days=100)) < CLOSE


def test_credential_report__shows_when_where_and_with_what_a_key_was_last_used(lab) -> None:
    lab.session_as("dave").client("iam").list_users()
    row = _report(lab)["dave"]
    assert (row["access_key_1_last_used_service"], row["access_key_1_last_used_region"]) == ("iam", "us-east-1")
    assert abs(datetime.fromisoformat(row["access_key_1_last_used_date"]) - lab.clock.now()) < CLOSE
    assert row["access_key_2_active"] == "false" and row["access_key_2_last_used_date"] == "N/A"


def test_credential_report__starts_with_the_root_account(lab) -> None:
    lab.client("iam").list_users()
    rows = list(_report(lab).values())
    assert rows[0]["user"] == "<root_account>" and rows[0]["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert rows[0]["password_enabled"] == "not_supported"
    assert rows[0]["access_key_1_last_used_service"] == "iam"  # the lab administrator's key signed the call


def test_credential_report__shows_no_password_as_not_applicable(lab) -> None:
    row = _report(lab)["frank"]
    assert (row["password_enabled"], row["password_last_used"], row["password_last_changed"]) == ("false", "N/A", "N/A")


def test_credential_report__dates_a_password_from_when_it_was_set(lab) -> None:
    lab.client("iam").create_login_profile(UserName="frank", Password="Correct-Horse-9")
    set_at = lab.clock.now()
    lab.clock.advance(days=10)
    row = _report(lab)["frank"]
    assert (row["password_enabled"], row["password_last_used"]) == ("true", "no_information")
    assert abs(datetime.fromisoformat(row["password_last_changed"]) - set_at) < CLOSE


def test_generate_credential_report__reuses_a_report_for_four_hours(lab) -> None:
    iam = lab.client("iam")
    assert iam.generate_credential_report()["State"] == "STARTED"
    generated = iam.get_credential_report()["GeneratedTime"]
    lab.clock.advance(hours=3)
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    assert iam.get_credential_report()["GeneratedTime"] == generated
    lab.clock.advance(hours=2)
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.get_credential_report()["GeneratedTime"] > generated


def test_get_credential_report__without_a_report__fails_with_report_not_present(lab) -> None:
    with pytest.raises(ClientError) as caught:
        lab.client("iam").get_credential_report()
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ReportNotPresent", "Credential report not present")


# -- service last accessed ----------------------------------------------------------------------------


def test_service_last_accessed__lists_allowed_services_with_their_last_use(lab) -> None:
    lab.session_as("alice").client("s3").list_buckets()
    services = _last_accessed(lab, f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert {"s3", "iam"} <= set(services)  # developers: AmazonS3ReadOnlyAccess, IAMUserChangePassword
    assert "ec2" not in services
    s3 = services["s3"]
    assert s3["ServiceName"] == "Amazon S3"
    assert s3["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert s3["TotalAuthenticatedEntities"] == 1 and s3["LastAuthenticatedRegion"] == "us-east-1"
    assert abs(s3["LastAuthenticated"] - lab.clock.now()) < CLOSE
    assert "LastAuthenticated" not in services["iam"]


def test_service_last_accessed__counts_denied_attempts(lab) -> None:
    alice = lab.session_as("alice")
    with pytest.raises(ClientError):
        alice.client("s3").create_bucket(Bucket="not-allowed-for-alice")
    assert "LastAuthenticated" in _last_accessed(lab, f"arn:aws:iam::{ACCOUNT}:user/alice")["s3"]


def test_service_last_accessed__for_a_group_counts_its_members(lab) -> None:
    lab.session_as("alice").client("s3").list_buckets()
    lab.clock.advance(hours=1)
    lab.session_as("bob").client("s3").list_buckets()
    s3 = _last_accessed(lab, f"arn:aws:iam::{ACCOUNT}:group/developers")["s3"]
    assert s3["TotalAuthenticatedEntities"] == 2
    assert s3["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/bob"


def test_service_last_accessed__for_a_policy_counts_the_entities_it_is_attached_to(lab) -> None:
    lab.session_as("bob").client("s3").list_buckets()
    services = _last_accessed(lab, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert services["s3"]["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/bob"


def test_service_last_accessed__tracks_s3_management_actions(lab) -> None:
    lab.session_as("alice").client("s3").list_buckets()
    s3 = _last_accessed(lab, f"arn:aws:iam::{ACCOUNT}:user/alice", "ACTION_LEVEL")["s3"]
    actions = {a["ActionName"]: a for a in s3["TrackedActionsLastAccessed"]}
    assert actions["ListAllMyBuckets"]["LastAccessedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert "LastAccessedTime" not in actions["GetBucketPolicy"]
    assert "GetObject" not in actions  # S3 data events are not tracked


def test_service_last_accessed__only_the_principal_that_generated_a_job_reads_it(lab) -> None:
    job = lab.client("iam").generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/alice")["JobId"]
    carol = lab.session_as("carol").client("iam")  # an admin
    with pytest.raises(ClientError) as caught:
        carol.get_service_last_accessed_details(JobId=job)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NoSuchEntity", f"The job with ID {job} cannot be found.")


def test_generate_service_last_accessed_details__for_an_unknown_user__fails_with_no_such_entity(lab) -> None:
    with pytest.raises(ClientError) as caught:
        lab.client("iam").generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/nobody")
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NoSuchEntity", "The user with name nobody cannot be found.")


def test_service_last_accessed_with_entities__lists_a_groups_members(lab) -> None:
    lab.session_as("alice").client("s3").list_buckets()
    iam = lab.client("iam")
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:group/developers")["JobId"]
    details = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    entities = {d["EntityInfo"]["Name"]: d for d in details["EntityDetailsList"]}
    assert {"alice", "bob", "carol"} <= set(entities)
    assert "LastAuthenticated" in entities["alice"] and "LastAuthenticated" not in entities["bob"]


def _auditor_session(lab):
    import boto3

    bot = lab.session_as("audit-bot", account="audit")
    credentials = bot.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/auditor-role",
                                                RoleSessionName="nightly", ExternalId="acme-audit-2026")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name="us-east-1")


def test_service_last_accessed__for_a_role_counts_its_sessions(lab) -> None:
    _auditor_session(lab).client("iam").list_users()
    iam = _last_accessed(lab, f"arn:aws:iam::{ACCOUNT}:role/auditor-role")["iam"]
    assert iam["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:role/auditor-role"


def test_get_role__shows_when_a_session_last_used_the_role(lab) -> None:
    _auditor_session(lab).client("iam").list_users()
    used = lab.client("iam").get_role(RoleName="auditor-role")["Role"]["RoleLastUsed"]
    assert used["Region"] == "us-east-1" and abs(used["LastUsedDate"] - lab.clock.now()) < CLOSE


def test_credential_report__answers_for_the_callers_account(lab) -> None:
    iam = lab.client("iam", account="audit")
    iam.generate_credential_report()
    rows = list(csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode())))
    assert rows[0]["arn"] == "arn:aws:iam::111122223333:root"
    assert "audit-bot" in {r["user"] for r in rows} and "alice" not in {r["user"] for r in rows}
