"""Requests as WSGI servers hand them over, and whole exchanges with real clients over real HTTP."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from labkit import safety
from labkit.wire import (HttpRequest, HttpResponse, WireError, error_response, ok_response, parse_error, parse_request,
                         verify)
from labkit.wire.http import decode_aws_chunked

KEY, SECRET = "AKIDHTTPTEST", "http-test-secret"


def _environ(**extra: Any) -> dict[str, Any]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "wsgi.input": io.BytesIO(b""), "SCRIPT_NAME": ""}
    environ.update(extra)
    return environ


def test_from_environ__reads_exactly_content_length_bytes__and_lower_cases_headers() -> None:
    request = HttpRequest.from_environ(_environ(
        CONTENT_LENGTH="5", CONTENT_TYPE="text/plain", HTTP_X_AMZ_TARGET="T.Op", HTTP_HOST="h:1",
        **{"wsgi.input": io.BytesIO(b"hello, and the next request")}))
    assert request.body == b"hello"
    assert request.header("X-Amz-Target") == "T.Op" and request.header("content-type") == "text/plain"
    assert request.header("Content-Length") == "5" and request.header("host") == "h:1"


def test_from_environ__reads_no_body__without_a_length_or_chunked_input() -> None:
    assert HttpRequest.from_environ(_environ(**{"wsgi.input": io.BytesIO(b"stray")})).body == b""
    chunked = _environ(HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(b"all of it")})
    assert HttpRequest.from_environ(chunked).body == b"all of it"


def test_from_environ__keeps_the_raw_path__when_the_server_gives_it() -> None:
    request = HttpRequest.from_environ(_environ(PATH_INFO="/a b/c/d", RAW_URI="/a%20b/c%2Fd?x=1", QUERY_STRING="x=1"))
    assert (request.path, request.query) == ("/a%20b/c%2Fd", "x=1")
    absolute = HttpRequest.from_environ(_environ(REQUEST_URI="http://h:1/k%2B?x=1"))
    assert absolute.path == "/k%2B"


def test_from_environ__encodes_path_info_again__as_aws_sdks_do() -> None:
    # PATH_INFO is decoded by the server, as latin-1 text of the raw bytes.
    decoded = "/bucket/a b+c/é~.txt".encode().decode("latin-1")
    assert HttpRequest.from_environ(_environ(PATH_INFO=decoded)).path == "/bucket/a%20b%2Bc/%C3%A9~.txt"


def test_decode_aws_chunked__reads_signed_chunks_and_trailers() -> None:
    body = (b"5;chunk-signature=" + b"a" * 64 + b"\r\nhello\r\n6;chunk-signature=" + b"b" * 64 + b"\r\n world\r\n"
            b"0;chunk-signature=" + b"c" * 64 + b"\r\nx-amz-checksum-crc32:AAAAAA==\r\n"
            b"x-amz-trailer-signature:" + b"d" * 64 + b"\r\n\r\n")
    assert decode_aws_chunked(body) == (b"hello world", {"x-amz-checksum-crc32": "AAAAAA=="})


def test_http_response__finds_a_header_whatever_its_case() -> None:
    response = HttpResponse(200, [("X-Amzn-RequestId", "r")], b"")
    assert response.header("x-amzn-requestid") == "r" and response.header("missing") is None


# -- a lab over real HTTP ------------------------------------------------------------------------

ANSWERS: dict[str, dict[str, Any]] = {
    "ListUsers": {"Users": [{"Path": "/", "UserName": "ana", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::1:user/ana",
                             "CreateDate": "2026-01-02T03:04:05Z"}], "IsTruncated": False},
    "PutObject": {"ETag": '"etag"', "VersionId": "v1"},
    "GetItem": {"Item": {"k": {"S": "é"}}},
    "ListMetrics": {"Metrics": [{"Namespace": "AWS/EC2", "MetricName": "CPUUtilization"}]},
}


def lab_app(seen: list[Any]) -> Any:
    """A WSGI lab: verifies each request's signature, then answers from ANSWERS, in the request's protocol."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request = HttpRequest.from_environ(environ)
        request_id = str(uuid.uuid4())
        try:
            call = parse_request(request)
        except WireError as error:
            response = error_response(error.service or "s3", error.protocol or "rest-xml", status=error.status,
                                      code=error.code, message=error.message, request_id=request_id)
        else:
            seen.append(call)
            if call.signature is None or not verify(request, call.signature, SECRET):
                response = error_response(call.service, call.protocol, status=403, code="SignatureDoesNotMatch",
                                          message="The request signature we calculated does not match.",
                                          request_id=request_id)
            else:
                response = ok_response(call.service, call.protocol, call.operation, ANSWERS[call.operation],
                                       request_id=request_id)
        start_response(f"{response.status} X", response.headers)
        return [response.body]

    return app


@pytest.fixture(params=["wsgiref", "werkzeug"])
def lab_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[Any]]]:
    # wsgiref hands over a decoded PATH_INFO; werkzeug (labkit's lab server) the raw URI too.
    seen: list[Any] = []
    if request.param == "wsgiref":
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

        server: Any = make_server("127.0.0.1", 0, lab_app(seen), handler_class=Quiet)
    else:
        from werkzeug.serving import make_server as werkzeug_server

        server = werkzeug_server("127.0.0.1", 0, lab_app(seen), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    safety.allow_endpoint(url)  # labkit lets botocore reach a lab, and nothing else
    yield url, seen
    safety.forbid_endpoint(url)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _client(service: str, url: str, secret: str = SECRET) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", endpoint_url=url, aws_access_key_id=KEY, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))


def test_a_lab_over_http__answers_real_clients__in_their_protocols(lab_url: tuple[str, list[Any]]) -> None:
    url, seen = lab_url
    assert _client("iam", url).list_users()["Users"][0]["UserName"] == "ana"
    put = _client("s3", url).put_object(Bucket="labkit-bucket", Key="a dir/ü+%=.txt", Body=b"data", Metadata={"t": "1"})
    assert put["VersionId"] == "v1"
    assert _client("dynamodb", url).get_item(TableName="t", Key={"k": {"S": "v"}})["Item"] == {"k": {"S": "é"}}
    assert _client("cloudwatch", url).list_metrics()["Metrics"][0]["MetricName"] == "CPUUtilization"
    assert [(c.service, c.operation) for c in seen] == [("iam", "ListUsers"), ("s3", "PutObject"),
                                                        ("dynamodb", "GetItem"), ("cloudwatch", "ListMetrics")]
    put_params = {k: seen[1].params.get(k) for k in ("Bucket", "Key", "Body", "Metadata")}
    assert put_params == {"Bucket": "labkit-bucket", "Key": "a dir/ü+%=.txt", "Body": b"data", "Metadata": {"t": "1"}}


def test_a_lab_over_http__refuses_a_wrong_secret__with_signature_does_not_match(lab_url: tuple[str, list[Any]]) -> None:
    url, _ = lab_url
    for service, call in (("iam", lambda c: c.list_users()),
                          ("s3", lambda c: c.put_object(Bucket="labkit-bucket", Key="k", Body=b"x")),
                          ("dynamodb", lambda c: c.get_item(TableName="t", Key={"k": {"S": "v"}}))):
        with pytest.raises(ClientError) as raised:
            call(_client(service, url, secret="wrong"))
        assert raised.value.response["Error"]["Code"] == "SignatureDoesNotMatch", service


# -- moto's own errors ---------------------------------------------------------------------------


def _moto_environ(request: HttpRequest) -> dict[str, Any]:
    environ = _environ(REQUEST_METHOD=request.method, PATH_INFO=request.path, RAW_URI=request.path,
                       QUERY_STRING=request.query, CONTENT_LENGTH=str(len(request.body)),
                       **{"wsgi.input": io.BytesIO(request.body), "wsgi.url_scheme": "https",
                          "wsgi.errors": io.StringIO()})
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        environ["CONTENT_TYPE" if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


@pytest.fixture(scope="module")
def moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


MOTO_ERRORS = [
    ("iam", lambda c: c.get_user(UserName="nobody-wire-test")),
    ("s3", lambda c: c.get_bucket_policy(Bucket="no-such-bucket-wire-test")),
    ("dynamodb", lambda c: c.describe_table(TableName="no-such-table-wire-test")),
    ("sqs", lambda c: c.get_queue_url(QueueName="no-such-queue-wire-test")),
    ("lambda", lambda c: c.get_function(FunctionName="no-such-function-wire-test")),
    ("kms", lambda c: c.describe_key(KeyId="00000000-0000-0000-0000-000000000000")),
    ("ec2", lambda c: c.describe_instances(InstanceIds=["i-0123456789abcdef0"])),
    ("logs", lambda c: c.describe_log_streams(logGroupName="no-such-group-wire-test")),
    ("cloudwatch", lambda c: c.get_dashboard(DashboardName="no-such-dashboard-wire-test")),
]


@pytest.mark.parametrize(("service", "call"), MOTO_ERRORS, ids=[e[0] for e in MOTO_ERRORS])
def test_parse_error__reads_motos_own_errors__as_the_client_does(service: str, call: Any, moto_app: Any) -> None:
    from botocore.awsrequest import AWSResponse

    read: list[Any] = []

    def through_moto(request: Any, **_: Any) -> AWSResponse:
        parts = urlsplit(request.url)
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        headers.setdefault("Host", parts.netloc)
        body = request.body or b""
        wire = HttpRequest(request.method, parts.path or "/", parts.query, headers,
                           body.encode() if isinstance(body, str) else bytes(body))
        parsed = parse_request(wire)
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = int(status.split()[0]), response_headers

        content = b"".join(moto_app(_moto_environ(wire), start_response))
        read.append(parse_error(parsed.service, parsed.protocol, captured["status"], captured["headers"], content))

        class Raw:
            def stream(self, *_: Any, **__: Any) -> Any:
                yield content

        return AWSResponse(request.url, captured["status"], captured["headers"], Raw())

    client = botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}))
    client.meta.events.register("before-send", through_moto)
    with pytest.raises(ClientError) as raised:
        call(client)
    error = raised.value.response["Error"]
    assert read == [(error["Code"], error["Message"])]
    assert error["Code"]


@pytest.mark.slow
def test_a_lab_over_http__answers_the_aws_cli(lab_url: tuple[str, list[Any]], tmp_path: Any) -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    aws = Path(sys.executable).with_name("aws")
    if not aws.exists():
        pytest.skip("the AWS CLI is not installed (it is in the dev extra)")
    url, seen = lab_url
    upload = tmp_path / "upload.txt"
    upload.write_bytes(b"from the cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_MAX_ATTEMPTS="1")
    for args in (["iam", "list-users"], ["cloudwatch", "list-metrics"],
                 ["s3api", "put-object", "--bucket", "labkit-bucket", "--key", "cli dir/ü.txt", "--body", str(upload)]):
        done = subprocess.run([str(aws), *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        json.loads(done.stdout)
    assert [(c.service, c.operation) for c in seen] == [("iam", "ListUsers"), ("cloudwatch", "ListMetrics"),
                                                        ("s3", "PutObject")]
    assert seen[2].params["Key"] == "cli dir/ü.txt" and seen[2].params["Body"] == b"from the cli"
