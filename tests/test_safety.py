"""Nothing reaches real AWS: every endpoint, proxy and credential source points at a loopback trap."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config

from labkit import Lab
from labkit.errors import NoLabRunning

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1)


@pytest.fixture
def hostile_environment(trap, tmp_path, monkeypatch):
    """Real-looking credentials, a profile, endpoints and proxies, all aimed at the trap."""
    config = tmp_path / "config"
    config.write_text(f"[profile prod]\nregion = eu-west-1\nendpoint_url = {trap.url}\n[default]\nendpoint_url = {trap.url}\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[prod]\naws_access_key_id = AKIAREALLOOKINGKEY01\naws_secret_access_key = realsecret\n")
    for name, value in {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_PROFILE": "prod",
        "AWS_ENDPOINT_URL": trap.url,
        "AWS_ENDPOINT_URL_IAM": trap.url,
        "AWS_ENDPOINT_URL_S3": trap.url,
        "AWS_ENDPOINT_URL_STS": trap.url,
        "HTTP_PROXY": trap.url,
        "HTTPS_PROXY": trap.url,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{trap.url}/creds",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": trap.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return trap


def test_call_outside_a_lab__fails_with_labkit_error__and_nothing_arrives(hostile_environment):
    with pytest.raises(NoLabRunning, match="never talks to real AWS"):
        boto3.client("iam", config=NO_RETRIES).list_users()
    assert hostile_environment.connections == 0


def test_call_outside_a_lab_without_credentials__does_not_query_instance_metadata(hostile_environment, monkeypatch):
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    with pytest.raises(NoLabRunning):
        boto3.client("s3", region_name="us-east-1", config=NO_RETRIES).list_buckets()
    assert hostile_environment.connections == 0


def test_calls_inside_a_lab__reach_the_mock__whatever_the_environment_says(hostile_environment):
    with Lab():
        users = boto3.client("iam").list_users()["Users"]
        buckets = boto3.client("s3").list_buckets()["Buckets"]
        assert boto3.Session().region_name == "us-east-1"
    assert {u["UserName"] for u in users} >= {"alice", "bob"}
    assert {b["Name"] for b in buckets} >= {"acme-app-data"}
    assert hostile_environment.connections == 0


def test_explicit_endpoint_inside_a_lab__is_blocked(hostile_environment):
    with Lab():
        client = boto3.client("iam", endpoint_url=hostile_environment.url, config=NO_RETRIES)
        with pytest.raises(NoLabRunning):
            client.list_users()
    assert hostile_environment.connections == 0


def test_profile_inside_a_lab__is_neutralised(hostile_environment):
    from botocore.exceptions import ProfileNotFound

    with Lab():
        with pytest.raises(ProfileNotFound):
            boto3.Session(profile_name="prod")
    assert hostile_environment.connections == 0


def test_client_made_before_the_lab__cannot_reach_out(hostile_environment):
    from botocore.exceptions import ClientError

    early = boto3.client("iam", config=NO_RETRIES)
    with Lab():
        # Either the mock answers, refusing the made-up profile's key, or the wire guard stops it.
        with pytest.raises((NoLabRunning, ClientError)) as err:
            early.list_users()
        if isinstance(err.value, ClientError):
            assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert hostile_environment.connections == 0


def test_environment_is_restored_exactly_after_stop(hostile_environment):
    before = dict(os.environ)
    lab = Lab().start()
    assert "AWS_PROFILE" not in os.environ
    assert not any(k.startswith("AWS_ENDPOINT_URL") for k in os.environ)
    lab.stop()
    assert dict(os.environ) == before
