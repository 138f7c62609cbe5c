"""The AWS CLI against a lab server: another process, another SDK, enforced where the account lives."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit import Lab

pytestmark = pytest.mark.slow

AWS = Path(sys.executable).with_name("aws")


@pytest.fixture(scope="module")
def server_lab():
    if not AWS.exists() and shutil.which("aws") is None:
        pytest.skip("the AWS CLI is not installed (pip install awscli; it is in the dev extra)")
    with Lab(mode="server") as running:
        yield running


@pytest.fixture
def fresh(server_lab):
    server_lab.reset()
    return server_lab


def _aws(lab: Lab, key: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=lab.endpoint_url, AWS_ACCESS_KEY_ID=key["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"], AWS_DEFAULT_REGION=lab.region,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_MAX_ATTEMPTS="1")
    command = [str(AWS) if AWS.exists() else "aws", *args, "--output", "json"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def _key(lab: Lab, user: str) -> dict[str, str]:
    return lab.client("iam").create_access_key(UserName=user)["AccessKey"]


def test_cli_call__is_denied_then_allowed_once_a_policy_allows_it(fresh):
    key = _key(fresh, "frank")
    denied = _aws(fresh, key, "iam", "list-users")
    assert denied.returncode != 0
    assert "AccessDenied" in denied.stderr and "iam:ListUsers" in denied.stderr
    fresh.client("iam").attach_user_policy(UserName="frank", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    allowed = _aws(fresh, key, "iam", "list-users")
    assert allowed.returncode == 0, allowed.stderr
    assert "frank" in {u["UserName"] for u in json.loads(allowed.stdout)["Users"]}


def test_cli_call_with_an_inactive_key__is_refused(fresh):
    key = _key(fresh, "alice")
    fresh.client("iam").update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    result = _aws(fresh, key, "sts", "get-caller-identity")
    assert result.returncode != 0 and "InvalidClientTokenId" in result.stderr


def test_cli_call_with_a_wrong_secret__is_refused(fresh):
    key = {**_key(fresh, "alice"), "SecretAccessKey": "wrong" * 8}
    result = _aws(fresh, key, "sts", "get-caller-identity")
    assert result.returncode != 0 and "SignatureDoesNotMatch" in result.stderr


def test_cli_s3_calls__are_decided_by_the_users_policies(fresh):
    key = _key(fresh, "alice")
    listed = _aws(fresh, key, "s3api", "list-buckets")
    assert listed.returncode == 0, listed.stderr
    assert {b["Name"] for b in json.loads(listed.stdout)["Buckets"]} >= {"acme-app-data"}


def test_cli_calls__are_in_the_trail(fresh):
    key = _key(fresh, "frank")
    _aws(fresh, key, "iam", "list-users")
    _aws(fresh, key, "sts", "get-caller-identity")
    events = fresh.trail.events(username="frank")
    assert [(e.event_name, e.error_code) for e in events[:2]] == [("GetCallerIdentity", None), ("ListUsers", "AccessDenied")]
    assert all(e.access_key_id == key["AccessKeyId"] for e in events[:2])
