"""`labkit serve`: a lab account for a terminal, and what it tells the user."""

from __future__ import annotations

import io
import re
import socket
import threading

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from labkit.cli import main
from labkit.host.serve import serve_lab


@pytest.fixture
def served():
    out, ready, stop = io.StringIO(), threading.Event(), threading.Event()
    thread = threading.Thread(target=serve_lab, kwargs={"user": "frank", "out": out, "ready": ready, "stop": stop}, daemon=True)
    thread.start()
    assert ready.wait(60), out.getvalue()
    yield out.getvalue()
    stop.set()
    thread.join(30)
    assert not thread.is_alive()


def _exports(text: str, who: str) -> dict[str, str]:
    block = text.split(who, 1)[1]
    line = next(line for line in block.splitlines() if line.strip().startswith("export "))
    return dict(pair.split("=", 1) for pair in line.split()[1:])


def test_serve__prints_the_endpoint_and_keys_that_work(served):
    assert re.search(r"answers AWS API calls at http://127\.0\.0\.1:\d+", served)
    assert "aws iam list-users" in served
    env = _exports(served, "As frank")
    from labkit import safety

    safety.allow_endpoint(env["AWS_ENDPOINT_URL"])  # a client in this process, as one in another terminal would be
    config = Config(retries={"max_attempts": 1})
    iam = boto3.client("iam", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1", config=config)
    with pytest.raises(ClientError) as err:
        iam.list_users()  # frank's own policies decide
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    admin = _exports(served, "administrator")
    admin_iam = boto3.client("iam", endpoint_url=admin["AWS_ENDPOINT_URL"], aws_access_key_id=admin["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1", config=config)
    assert "frank" in {u["UserName"] for u in admin_iam.list_users()["Users"]}
    safety.forbid_endpoint(env["AWS_ENDPOINT_URL"])


def test_serve_on_a_port_in_use__is_a_one_line_error(capsys):
    taken = socket.create_server(("127.0.0.1", 0))
    try:
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2
    finally:
        taken.close()
    assert "already in use" in capsys.readouterr().err


def test_serve_for_an_unknown_user__says_so(capsys):
    assert main(["serve", "--user", "nobody"]) == 2
    assert "no IAM user named 'nobody'" in capsys.readouterr().err
