"""SigV4 checked where the request arrives: real clients' signatures verify, and nothing else does."""

from __future__ import annotations

import dataclasses
import io
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.config import Config

from labkit.wire import HttpRequest, WireError, parse_request, signature_of, verify

KEY, SECRET, TOKEN = "AKIDSIGV4TEST", "sigv4-test-secret/with+chars", "session-token-xyz"


class Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise Captured(request)


def _client(service: str, *, token: str | None = None, endpoint: str | None = None, **config: Any) -> Any:
    made = botocore.session.get_session().create_client(
        service, region_name="eu-west-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        aws_session_token=token, endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}, **config))
    made.meta.events.register("before-send", _capture)
    return made


def _wire(prepared: Any) -> HttpRequest:
    parts = urlsplit(prepared.url)
    body = prepared.body or b""
    body = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else body
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    headers.setdefault("Host", parts.netloc)
    return HttpRequest(prepared.method, parts.path or "/", parts.query, headers, bytes(body))


def _sent(client: Any, method: str, **params: Any) -> HttpRequest:
    with pytest.raises(Captured) as captured:
        getattr(client, method)(**params)
    return _wire(captured.value.request)


def _url(url: str) -> HttpRequest:
    parts = urlsplit(url)
    return HttpRequest("GET", parts.path or "/", parts.query, {"Host": parts.netloc}, b"")


# One signed request per protocol and canonicalisation rule: query, ec2, json, cbor, rest-json
# (a path encoded twice when canonicalised) and S3 (virtual-hosted and path-style, path as sent).
REQUESTS = {
    "iam-query": lambda: _sent(_client("iam"), "create_user", UserName="ana", Path="/team a/"),
    "sts-session-token": lambda: _sent(_client("sts", token=TOKEN), "get_caller_identity"),
    "ec2": lambda: _sent(_client("ec2"), "describe_instances", Filters=[{"Name": "tag:Team", "Values": ["a b"]}]),
    "dynamodb-json": lambda: _sent(_client("dynamodb"), "get_item", TableName="t", Key={"k": {"S": "é"}}),
    "cloudwatch-cbor": lambda: _sent(_client("cloudwatch"), "list_metrics", Namespace="AWS/EC2"),
    "lambda-rest-json": lambda: _sent(_client("lambda"), "get_function",
                                      FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:f", Qualifier="$LATEST"),
    "s3-virtual": lambda: _sent(_client("s3"), "get_object", Bucket="labkit-bucket", Key="a dir/ü+%/x.txt",
                                Range="bytes=0-9"),
    "s3-path": lambda: _sent(_client("s3", endpoint="http://127.0.0.1:5999", s3={"addressing_style": "path"}),
                             "put_object", Bucket="labkit-bucket", Key="a dir/x=1&y.txt", Body=b"data"),
    "s3-chunked": lambda: _sent(_client("s3"), "put_object", Bucket="labkit-bucket", Key="k",
                                Body=io.BytesIO(b"streamed " * 100), ChecksumAlgorithm="CRC32"),
}


@pytest.fixture(params=sorted(REQUESTS))
def signed(request: pytest.FixtureRequest) -> HttpRequest:
    return REQUESTS[request.param]()  # type: ignore[no-any-return]


def test_verify__accepts_a_real_clients_signature__with_the_right_secret(signed: HttpRequest) -> None:
    signature = signature_of(signed)
    assert signature is not None and signature.access_key == KEY
    assert signature.region == ("us-east-1" if signature.service == "iam" else "eu-west-1")  # IAM is global
    assert verify(signed, signature, SECRET)


def test_verify__rejects_a_real_clients_signature__with_a_wrong_secret(signed: HttpRequest) -> None:
    signature = signature_of(signed)
    assert signature is not None
    assert not verify(signed, signature, SECRET + "x")


def test_verify__rejects__a_tampered_body() -> None:
    for name in ("iam-query", "dynamodb-json", "cloudwatch-cbor", "s3-path"):
        request = REQUESTS[name]()
        tampered = dataclasses.replace(request, body=request.body[:-1] + bytes([request.body[-1] ^ 1]))
        assert not verify(tampered, signature_of(tampered), SECRET), name  # type: ignore[arg-type]


def test_verify__rejects__a_tampered_signed_header() -> None:
    request = REQUESTS["dynamodb-json"]()
    headers = {**request.headers, "X-Amz-Target": "DynamoDB_20120810.DeleteTable"}
    tampered = dataclasses.replace(request, headers=headers)
    assert not verify(tampered, signature_of(tampered), SECRET)  # type: ignore[arg-type]


def test_verify__rejects__a_tampered_query_or_path() -> None:
    request = REQUESTS["s3-virtual"]()
    for tampered in (dataclasses.replace(request, query="versionId=other"),
                     dataclasses.replace(request, path=request.path.replace("x.txt", "y.txt")),
                     dataclasses.replace(request, method="DELETE")):
        assert not verify(tampered, signature_of(tampered), SECRET)  # type: ignore[arg-type]


def test_verify__rejects__a_payload_hash_that_is_not_the_bodys() -> None:
    request = REQUESTS["s3-path"]()
    assert len(request.header("x-amz-content-sha256") or "") == 64  # a hex digest, signed
    tampered = dataclasses.replace(request, body=b"other")
    assert not verify(tampered, signature_of(tampered), SECRET)  # type: ignore[arg-type]


def test_verify__takes_streaming_payload_values_literally() -> None:
    request = REQUESTS["s3-chunked"]()
    assert request.header("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert verify(request, signature_of(request), SECRET)  # type: ignore[arg-type]


def test_verify__accepts_unsigned_payload__when_the_client_signs_none() -> None:
    client = _client("s3", s3={"payload_signing_enabled": False}, request_checksum_calculation="when_required")
    request = _sent(client, "put_object", Bucket="labkit-bucket", Key="k", Body=b"abc", ContentMD5="kAFQmDzST7DWlj99KOF/cg==")
    assert request.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD"
    assert verify(request, signature_of(request), SECRET)  # type: ignore[arg-type]


def test_signature_of__reads_the_session_token_and_the_signing_name() -> None:
    signature = signature_of(REQUESTS["sts-session-token"]())
    assert signature is not None and signature.session_token == TOKEN and signature.service == "sts"
    assert signature_of(REQUESTS["cloudwatch-cbor"]()).service == "monitoring"  # type: ignore[union-attr]


def _s3(*, version: str | None, endpoint_url: str | None = None, **options: Any) -> Any:
    config = Config(signature_version=version, **options) if version else Config(**options)
    return botocore.session.get_session().create_client("s3", region_name="eu-west-1", aws_access_key_id=KEY,
                                                        aws_secret_access_key=SECRET, aws_session_token=TOKEN,
                                                        config=config, endpoint_url=endpoint_url)


# botocore presigns S3 URLs with SigV2 unless told "s3v4": both must verify.
@pytest.mark.parametrize("version", [None, "s3v4"])
def test_presigned_s3_urls__verify__and_parse_as_their_operation(version: str | None) -> None:
    url = _s3(version=version).generate_presigned_url("get_object", ExpiresIn=600, Params={
        "Bucket": "labkit-bucket", "Key": "a b/ü.txt", "ResponseContentType": "text/plain", "VersionId": "v1"})
    request = _url(url)
    signature = signature_of(request)
    assert signature is not None and signature.presigned and signature.session_token == TOKEN
    assert signature.algorithm == ("AWS4-HMAC-SHA256" if version else "AWS")
    assert signature.expires_at is not None and signature.expires_at > 0
    assert verify(request, signature, SECRET)
    assert not verify(request, signature, "wrong")
    assert not verify(dataclasses.replace(request, path=request.path + "x"), signature, SECRET)
    assert not verify(dataclasses.replace(request, query=request.query.replace("versionId=v1", "versionId=v2")),
                      signature, SECRET)
    parsed = parse_request(request)
    assert (parsed.service, parsed.operation) == ("s3", "GetObject")
    assert parsed.params == {"Bucket": "labkit-bucket", "Key": "a b/ü.txt", "ResponseContentType": "text/plain",
                             "VersionId": "v1"}


@pytest.mark.parametrize("version", [None, "s3v4"])
def test_presigned_s3_urls__verify__in_path_style_too(version: str | None) -> None:
    s3 = _s3(version=version, s3={"addressing_style": "path"}, endpoint_url="http://127.0.0.1:5999")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "labkit-bucket", "Key": "k 1"})
    request = dataclasses.replace(_url(url), method="PUT", body=b"uploaded later")
    assert verify(request, signature_of(request), SECRET)  # type: ignore[arg-type]
    assert parse_request(request).params == {"Bucket": "labkit-bucket", "Key": "k 1", "Body": b"uploaded later"}


def test_verify__accepts_s3_sigv2_headers__as_old_clients_send_them() -> None:
    request = _sent(_client("s3", signature_version="s3"), "put_object", Bucket="labkit-bucket", Key="k", Body=b"x",
                    Metadata={"team": "a"})
    assert (request.header("authorization") or "").startswith("AWS AKIDSIGV4TEST:")
    signature = signature_of(request)
    assert signature is not None and signature.algorithm == "AWS"
    assert verify(request, signature, SECRET)
    assert not verify(dataclasses.replace(request, headers={**request.headers, "x-amz-meta-team": "b"}), signature, SECRET)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_presigned_urls_of_other_services__verify__with_their_payload_hash(method: str) -> None:
    # Outside S3, a presigned URL signs the (empty) body's hash, not UNSIGNED-PAYLOAD; botocore
    # signs it for the operation's method unless told another (EKS tokens: GET GetCallerIdentity).
    sts = botocore.session.get_session().create_client("sts", region_name="eu-west-1", aws_access_key_id=KEY,
                                                       aws_secret_access_key=SECRET)
    url = sts.generate_presigned_url("get_caller_identity", HttpMethod=method)
    request = dataclasses.replace(_url(url), method=method)
    assert verify(request, signature_of(request), SECRET)  # type: ignore[arg-type]
    assert not verify(dataclasses.replace(request, method="PUT"), signature_of(request), SECRET)  # type: ignore[arg-type]
    assert parse_request(request).operation == "GetCallerIdentity"


def test_verify__matches_the_aws_documentation_examples() -> None:
    # AWS's SigV4 test suite, "get-vanilla", and the IAM ListUsers example of the IAM User Guide
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), same key.
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    vanilla = HttpRequest("GET", "/", "", {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z",
                                           "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                                           "service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b"
                                           "73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"}, b"")
    list_users = HttpRequest("GET", "/", "Action=ListUsers&Version=2010-05-08", {
        "Host": "iam.amazonaws.com", "X-Amz-Date": "20150830T123600Z",
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date, "
                         "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"}, b"")
    for request in (vanilla, list_users):
        assert verify(request, signature_of(request), secret)  # type: ignore[arg-type]
    assert parse_request(list_users).operation == "ListUsers"


def test_verify__rejects__a_credential_scope_of_another_day() -> None:
    request = REQUESTS["iam-query"]()
    signature = signature_of(request)
    assert signature is not None
    assert not verify(request, dataclasses.replace(signature, scope_date="19990101"), SECRET)


def test_verify__rejects__a_signature_that_does_not_sign_the_host() -> None:
    request = REQUESTS["iam-query"]()
    signature = signature_of(request)
    assert signature is not None
    assert not verify(request, dataclasses.replace(signature, signed_headers=tuple(
        h for h in signature.signed_headers if h != "host")), SECRET)


def test_signature_of__is_none__for_an_unsigned_request() -> None:
    assert signature_of(HttpRequest("GET", "/bucket/key", "", {"Host": "127.0.0.1:5000"}, b"")) is None


@pytest.mark.parametrize("authorization", [
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iam/aws4_request, SignedHeaders=host",
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/iam/aws4_request, SignedHeaders=host, Signature=00",
    "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/iam/aws4_request, SignedHeaders=host, Signature=00",
    "Bearer some-token",
])
def test_signature_of__raises_incomplete_signature__for_a_malformed_authorization(authorization: str) -> None:
    request = HttpRequest("GET", "/", "", {"Host": "iam.amazonaws.com", "X-Amz-Date": "20260101T000000Z",
                                           "Authorization": authorization}, b"")
    with pytest.raises(WireError) as raised:
        signature_of(request)
    assert raised.value.code == "IncompleteSignature" and raised.value.status == 400
