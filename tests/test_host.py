"""Where the account lives: the same lab in the kernel and in a lab server, and requests decided as they arrive."""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from labkit import Lab, open_lab
from labkit.errors import LabStateError, NoLabRunning, ServerLost
from labkit.host.remote import ServerAccount

pytestmark = pytest.mark.both_modes


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


# -- signatures and keys, as AWS checks them ---------------------------------------------------------


def test_wrong_secret__is_refused_with_signature_does_not_match(lab):
    key = lab.client("iam").create_access_key(UserName="frank")["AccessKey"]
    client = boto3.client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as err:
        client.get_caller_identity()
    assert _code(err) == "SignatureDoesNotMatch"
    assert "signature we calculated does not match" in err.value.response["Error"]["Message"]


def test_unknown_key__is_refused_with_invalid_client_token_id(lab):
    client = boto3.client("iam", aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError) as err:
        client.list_users()
    assert _code(err) == "InvalidClientTokenId"


def test_session_key_without_its_token__is_refused(lab):
    creds = lab.session_as("alice").client("sts").get_session_token()["Credentials"]
    client = boto3.client("sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        client.get_caller_identity()
    assert _code(err) == "InvalidClientTokenId"


def test_session_key_with_its_token__is_accepted(lab):
    creds = lab.session_as("alice").client("sts").get_session_token()["Credentials"]
    client = boto3.client("sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"])
    assert client.get_caller_identity()["Arn"].endswith(":user/alice")


# -- what used to differ in a lab server (issue: one account seam) -------------------------------------


def test_role_session_in_another_account__is_served_that_accounts_iam(lab):
    audit = lab.client("iam", account="audit")
    audit.create_role(RoleName="audit-reader", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]}))
    audit.attach_role_policy(RoleName="audit-reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    audit.put_user_policy(UserName="audit-bot", PolicyName="AssumeLocal", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    creds = lab.session_as("audit-bot", account="audit").client("sts").assume_role(
        RoleArn="arn:aws:iam::111122223333:role/audit-reader", RoleSessionName="audit-session")["Credentials"]
    iam = boto3.client("iam", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    assert {u["UserName"] for u in iam.list_users()["Users"]} == {"audit-bot"}


def test_enable_mfa_device__works_for_a_lab_user(lab):
    from labkit.sessions import totp

    iam = lab.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-phone")["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    seed = seed.decode() if isinstance(seed, bytes) else seed
    now = lab.clock.now().timestamp()
    iam.enable_mfa_device(UserName="bob", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp(seed, at=now - 30), AuthenticationCode2=totp(seed, at=now))
    assert iam.list_mfa_devices(UserName="bob")["MFADevices"][0]["SerialNumber"] == device["SerialNumber"]


def test_get_federation_token__accepts_a_customer_managed_policy_arn(lab):
    iam = lab.client("iam")
    arn = iam.create_policy(PolicyName="FedRead", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.put_user_policy(UserName="frank", PolicyName="Federate", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:GetFederationToken", "s3:ListAllMyBuckets"], "Resource": "*"}]}))
    token = lab.session_as("frank").client("sts").get_federation_token(Name="fed", PolicyArns=[{"arn": arn}])
    creds = token["Credentials"]
    s3 = boto3.client("s3", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"])
    assert s3.list_buckets()["Buckets"]


def test_credential_report__lists_every_user(lab):
    import csv
    import io
    import time

    iam = lab.client("iam")
    while iam.generate_credential_report()["State"] != "COMPLETE":
        time.sleep(0.05)
    rows = list(csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode())))
    users = {u["UserName"] for u in iam.list_users()["Users"]}
    assert {r["user"] for r in rows} == users | {"<root_account>"}


def test_clock__lives_with_the_account(lab):
    before = lab.clock.now()
    lab.clock.advance(days=3)
    key = lab.client("iam").create_access_key(UserName="bob")["AccessKey"]
    assert (key["CreateDate"] - before).days >= 2


def test_trail__records_calls_made_by_any_client(lab):
    with pytest.raises(ClientError):
        lab.session_as("frank").client("iam").list_users()
    event = lab.trail.events(username="frank", event_name="ListUsers")[0]
    assert event.error_code == "AccessDenied"


# -- the lab server itself --------------------------------------------------------------------------


@pytest.fixture
def server_lab():
    with Lab(mode="server") as running:
        yield running


@pytest.mark.slow
def test_server_mode__serves_the_account_from_a_child_process(server_lab):
    assert server_lab.endpoint_url.startswith("http://127.0.0.1:")
    assert os.environ["AWS_ENDPOINT_URL"] == server_lab.endpoint_url
    boto3.client("iam").create_user(UserName="made-over-http")
    with urllib.request.urlopen(server_lab.endpoint_url + "/_labkit/status", timeout=10) as reply:
        pid = json.loads(reply.read())["pid"]
    assert pid != os.getpid() and pid == server_lab.account._process.pid
    server_lab.reset()
    assert "made-over-http" not in {u["UserName"] for u in boto3.client("iam").list_users()["Users"]}


@pytest.mark.slow
def test_stopping_a_server_lab__leaves_no_process_behind():
    lab = Lab(mode="server").start()
    pid = lab.account._process.pid
    lab.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.slow
def test_dead_server__next_call_says_so_and_open_lab_starts_a_new_one():
    lab = open_lab(mode="server")
    try:
        os.killpg(lab.account._process.pid, 9)
        lab.account._process.wait()
        with pytest.raises(ServerLost, match=r"lab server stopped.*open_lab\(\)"):
            boto3.client("iam").list_users()
        again = open_lab(mode="server")
        assert again is not lab and again.alive()
        assert boto3.client("iam").list_users()["Users"]
    finally:
        from labkit.lab import current_lab

        if current_lab() is not None:
            current_lab().stop()


@pytest.mark.slow
def test_port_in_use__is_a_clear_error_at_start():
    taken = socket.create_server(("127.0.0.1", 0))
    try:
        with pytest.raises(LabStateError, match="already in use"):
            Lab(mode="server", port=taken.getsockname()[1]).start()
    finally:
        taken.close()


def test_server_that_does_not_come_up__is_a_clear_error_at_start():
    with pytest.raises(LabStateError, match="did not come up within"):
        ServerAccount.start("acme", timeout=0.01)


def test_server_with_a_bad_scenario__says_why_it_could_not_start():
    with pytest.raises(LabStateError, match="could not start.*no-such-scenario"):
        ServerAccount.start("no-such-scenario")


def test_unknown_mode__is_refused():
    from labkit.errors import InvalidInput

    with pytest.raises(InvalidInput, match="'kernel' or 'server'"):
        Lab(mode="cloud")


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/moto-api/reset", "/%6Doto-api/reset", "//moto-api/data.json", "/x/../moto-api/reset"])
def test_lab_server__never_serves_motos_own_api(server_lab, path):
    request = urllib.request.Request(server_lab.endpoint_url + path, data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    err.value.close()
    assert err.value.code == 403


@pytest.mark.slow
def test_control_api__needs_the_labs_token(server_lab):
    request = urllib.request.Request(server_lab.endpoint_url + "/_labkit/reset", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    err.value.close()
    assert err.value.code == 403


@pytest.mark.slow
def test_lab_attached_without_the_owners_token__cannot_reset_the_account(monkeypatch):
    server = ServerAccount.start("acme")
    try:
        monkeypatch.delenv("LABKIT_SERVER_TOKEN", raising=False)
        with Lab(server=server.endpoint_url) as attached:
            with pytest.raises(LabStateError, match="refused"):
                attached.reset()
    finally:
        server.close()


def test_only_the_lab_server__is_reachable_from_a_server_lab(server_lab, trap):
    client = boto3.client("iam", endpoint_url=trap.url)
    with pytest.raises(NoLabRunning):
        client.list_users()
    assert trap.connections == 0


def test_lab_server__must_be_on_loopback():
    with pytest.raises(NoLabRunning, match="only talks to lab servers on this machine"):
        Lab(server="http://198.51.100.1:5000").start()


def test_kernel_lab__answers_only_aws_hosts_itself(trap):
    with Lab():
        client = boto3.client("iam", endpoint_url=trap.url, config=Config(retries={"max_attempts": 1}))
        with pytest.raises(NoLabRunning):
            client.list_users()
    assert trap.connections == 0


@pytest.mark.slow
def test_unknown_operation__is_answered_as_the_service_answers(server_lab):
    auth = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64)
    request = urllib.request.Request(server_lab.endpoint_url + "/", data=b"Action=NoSuchAction&Version=2010-05-08", method="POST",
                                     headers={"Authorization": auth, "X-Amz-Date": "20260101T000000Z",
                                              "Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    body = err.value.read().decode()
    err.value.close()
    assert err.value.code == 400 and "<Code>InvalidAction</Code>" in body and "<ErrorResponse" in body
