"""Each graded run gets a fresh lab account, closed before it is judged, judged only by its own server."""

from __future__ import annotations

import os
import signal
import socket
import time

import boto3
import pytest
from botocore.config import Config

from labkit import safety
from labkit.grading.servers import LabServers, ServerLost
from labkit.identity import admin_credentials


def _iam(url: str):
    safety.allow_endpoint(url)
    key, secret = admin_credentials("123456789012")
    config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
    return boto3.client("iam", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1", config=config)


def _take_over(port: int) -> socket.socket:
    deadline = time.monotonic() + 10
    while True:  # the killed server's socket goes away a moment after the kill
        try:
            return socket.create_server(("127.0.0.1", port))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def servers():
    with LabServers() as started:
        yield started


@pytest.mark.slow
def test_spawned_server__serves_a_fresh_account_judges_it_then_closes_it(servers):
    server = servers.spawn()
    try:
        iam = _iam(server.url)
        assert "grace" not in {u["UserName"] for u in iam.list_users()["Users"]}
        iam.create_user(UserName="grace")
        iam.add_user_to_group(GroupName="developers", UserName="grace")
        verdicts = server.judge(["users.1", "users.2"], {"users.2": ["wrong"]})
        assert verdicts == {
            "users.1": (True, ""),
            "users.2": (False, "That is not the set of managed policies that reach carol (3 policies do)."),
        }
        with pytest.raises(Exception):
            iam.create_user(UserName="late")  # after the verdict, nothing reaches the account
    finally:
        server.close()


@pytest.mark.slow
def test_every_spawned_server__starts_from_the_seeded_company(servers):
    first, second = servers.spawn(), servers.spawn()
    try:
        _iam(first.url).create_user(UserName="grace")
        assert "grace" not in {u["UserName"] for u in _iam(second.url).list_users()["Users"]}
    finally:
        first.close()
        second.close()


@pytest.mark.slow
def test_server_killed_and_its_port_taken_over__yields_no_verdict_at_all(servers):
    server = servers.spawn()
    try:
        port = int(server.url.rsplit(":", 1)[1])
        os.kill(server.pid(), signal.SIGKILL)  # what a notebook could do to the server it was given
        impostor = _take_over(port)
        try:
            with pytest.raises(ServerLost):
                server.judge(["users.1"], {})
        finally:
            impostor.close()
        assert servers.alive()
    finally:
        server.close()


@pytest.mark.slow
def test_moto_api_of_a_server__is_refused(servers):
    import urllib.request

    server = servers.spawn()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.url + "/moto-api/reset", data=b"", timeout=30)
        refused.value.close()
        assert refused.value.code == 403
    finally:
        server.close()


@pytest.mark.slow
def test_without_fork__a_server_process_per_run_works_the_same():
    with LabServers(fork=False) as slow:
        server = slow.spawn()
        try:
            _iam(server.url).create_user(UserName="grace")
            assert server.judge(["users.1"], {})["users.1"] == (False, "grace exists but is not in the developers group.")
        finally:
            server.close()
