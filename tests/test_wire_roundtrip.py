"""parse_request inverts botocore: every operation of every lab service, sent by a real client, reads back as called.

For each operation, parameters are generated from its input shape (every member, optional ones
too, down to depth 3), a real botocore client serialises and signs them as it would for AWS (its
``before-send`` hook captures the request instead of sending it), and ``parse_request`` must give
back the operation and the very parameters. Where the wire genuinely loses something, the
expected value is normalised, and the comment says why.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.serialize import create_serializer

from labkit.wire import SERVICES, HttpRequest, parse_request, signature_of, verify

SECRET = "wire-test-secret"
WHEN = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=timezone.utc)

# Operations left out, with why. Every other operation of the 14 services must round-trip.
EXCLUDED = {
    # A deprecated operation whose TopicConfiguration has a member `Event` and a flattened list
    # `Events` of <Event> elements: the XML cannot tell them apart, and AWS itself reads <Event> as
    # the list. (Its current twin, PutBucketNotificationConfiguration, round-trips.)
    ("s3", "PutBucketNotification"): "Event and Events share the element name <Event>",
}

# Deprecated operations with the same method, URI and query as their current twin: the wire
# cannot tell them apart, and labkit reads them as the current operation (the IAM action is the
# same). Their parameters must still read back whole.
TWINS = {
    ("s3", "GetBucketLifecycle"): "GetBucketLifecycleConfiguration",
    ("s3", "GetBucketNotification"): "GetBucketNotificationConfiguration",
}


class Captured(Exception):
    """Raised by the before-send hook: the request botocore would have sent."""

    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise Captured(request)


# -- parameters from shapes -----------------------------------------------------------------------


def _string(shape: Any, name: str, index: int, location: str | None) -> str:
    if shape.enum:
        return shape.enum[index % len(shape.enum)]
    stem = (name[:8] or "s").lower()
    if shape.serialization.get("hostLabel") or name == "Bucket":
        # Host labels and S3 buckets become DNS labels: letters, digits and hyphens only.
        text = f"{stem}-{index}"
    elif location == "uri":
        # Labels are percent-encoded: spaces, '+', '%' and non-ASCII must survive; only a greedy
        # label ({Key+}) may hold '/', added by the caller below.
        text = f"{stem} {index}+%é"
    elif location in ("header", "headers"):
        text = f"{stem} {index}+&=;"  # HTTP headers are ASCII
    else:
        text = f"{stem} {index}&=+%/é"
    minimum = shape.metadata.get("min", 0)
    return text + "x" * max(0, minimum - len(text))


def generate(shape: Any, name: str = "", depth: int = 0, index: int = 0, location: str | None = None, *,
             greedy: frozenset[str] = frozenset()) -> Any:
    """A value for ``shape``: every member of a structure down to depth 3, required ones below.

    ``greedy``: the labels an operation's requestUri marks greedy (``{Key+}``); those may hold '/'.
    """
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if shape.is_document_type:
            return {"doc": [1, "two", {"three": True}], "n": index}
        members = [(n, m) for n, m in shape.members.items() if not m.serialization.get("eventstream")]
        if meta.get("union"):
            members = members[:1]  # a union takes exactly one member
        chosen = [(n, m) for n, m in members if depth < 3 or n in shape.required_members]
        if not chosen and members:
            # An empty structure may vanish on the wire (query sends nothing for it): give it a
            # member, a scalar one if it has any.
            scalars = [(n, m) for n, m in members if m.type_name not in ("structure", "list", "map")]
            chosen = [(scalars or members)[0]]
        out = {}
        for member_name, member in chosen:
            where = member.serialization.get("location")
            value = generate(member, member_name, depth + 1, index, where)
            if where == "uri" and member.serialization.get("name", member_name) in greedy:
                value = f"dir/{value}/leaf.txt"
            out[member_name] = value
        return out
    if kind == "list":
        count = max(meta.get("min", 0), 2)
        return [generate(shape.member, name, depth + 1, i) for i in range(count)]
    if kind == "map":
        out = {}
        for i in range(2):
            key = shape.key.enum[i % len(shape.key.enum)] if shape.key.enum else f"k{i}-{name[:4].lower()}"
            out[key] = generate(shape.value, name, depth + 1, i, location)
        return out
    if kind == "string":
        return _string(shape, name, index, location)
    if kind in ("integer", "long"):
        wanted = 2**40 + index if kind == "long" else 7 + index
        return max(min(wanted, meta.get("max", wanted)), meta.get("min", 0))
    if kind in ("float", "double"):
        return max(1.5 + index, meta.get("min", 0))  # exact in binary32, which CBOR floats use
    if kind == "boolean":
        return (len(name) + index) % 2 == 0  # false as well as true
    if kind == "timestamp":
        return WHEN
    if kind == "blob":
        return b"\x00\x01blob\xff" + bytes([index])
    raise AssertionError(f"no generator for {kind}")


# -- what the wire keeps --------------------------------------------------------------------------


def expected(shape: Any, value: Any, location: str | None = None) -> Any:
    """``value`` as the wire can carry it."""
    kind = shape.type_name
    if kind == "structure" and not shape.is_document_type:
        return {k: expected(shape.members[k], v, shape.members[k].serialization.get("location")) for k, v in value.items()}
    if kind == "list":
        return [expected(shape.member, v, location) for v in value]
    if kind == "map":
        return {k: expected(shape.value, v, location) for k, v in value.items()}
    if kind == "timestamp" and (location == "header" or shape.serialization.get("timestampFormat") == "rfc822"):
        # botocore writes header timestamps in whole seconds, whatever their format; RFC 822 dates
        # have whole seconds anywhere.
        return value.replace(microsecond=0)
    return value


def normalise(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    model = _model(service)
    return expected(model.operation_model(operation).input_shape, params) if params else {}  # type: ignore[no-any-return]


# -- clients and requests -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _session() -> Any:
    return botocore.session.get_session()


@lru_cache(maxsize=None)
def _model(service: str) -> Any:
    return _session().get_service_model(service)


@lru_cache(maxsize=None)
def client(service: str, style: str = "virtual") -> Any:
    config = Config(s3={"addressing_style": style}, retries={"max_attempts": 1})
    endpoint = "http://127.0.0.1:5999" if style == "path" else None
    made = _session().create_client(service, region_name="us-east-1", aws_access_key_id="AKIDWIRETEST",
                                    aws_secret_access_key=SECRET, endpoint_url=endpoint, config=config)
    made.meta.events.register("before-send", _capture)
    return made


def as_http(prepared: Any) -> HttpRequest:
    """A botocore AWSPreparedRequest as a server receives it."""
    parts = urlsplit(prepared.url)
    body = prepared.body
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, str):
        body = body.encode("utf-8")
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    headers.setdefault("Host", parts.netloc)  # urllib3 adds it as it sends
    return HttpRequest(prepared.method, parts.path or "/", parts.query, headers, bytes(body))


def send(service: str, operation: str, params: dict[str, Any], style: str = "virtual") -> HttpRequest:
    made = client(service, style)
    method = {v: k for k, v in made.meta.method_to_api_mapping.items()}[operation]
    with pytest.raises(Captured) as captured:
        getattr(made, method)(**params)
    return as_http(captured.value.request)


def send_as(service: str, protocol: str, operation: str, params: dict[str, Any]) -> HttpRequest:
    """A request in another protocol the model lists, as an older client or the AWS CLI sends it."""
    model = _model(service)
    serialized = create_serializer(protocol).serialize_to_request(params, model.operation_model(operation))
    prepare_request_dict(serialized, f"https://{model.endpoint_prefix}.us-east-1.amazonaws.com")
    request = create_request_object(serialized)
    SigV4Auth(Credentials("AKIDWIRETEST", SECRET), model.signing_name, "us-east-1").add_auth(request)
    return as_http(request.prepare())


def params_for(service: str, operation: str) -> dict[str, Any]:
    model = _model(service).operation_model(operation)
    if model.input_shape is None:
        return {}
    uri = model.http.get("requestUri", "")
    greedy = frozenset(label.strip("{}+") for label in re.findall(r"\{[^}]+\+\}", uri))
    return generate(model.input_shape, operation, greedy=greedy)  # type: ignore[no-any-return]


def _cases() -> list[Any]:
    cases = []
    for service in SERVICES:
        for operation in _model(service).operation_names:
            marks = [pytest.mark.skip(reason=EXCLUDED[service, operation])] if (service, operation) in EXCLUDED else []
            cases.append(pytest.param(service, operation, "virtual", id=f"{service}.{operation}", marks=marks))
            if service == "s3":
                cases.append(pytest.param(service, operation, "path", id=f"s3-path.{operation}", marks=marks))
    return cases


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "operation", "style"), _cases())
def test_parse_request__gives_back_the_call__for_every_operation(service: str, operation: str, style: str) -> None:
    params = params_for(service, operation)
    request = send(service, operation, params, style)
    parsed = parse_request(request)
    assert (parsed.service, parsed.operation) == (service, TWINS.get((service, operation), operation))
    assert parsed.params == normalise(service, operation, params)
    assert (parsed.protocol, parsed.region) == (_model(service).resolved_protocol, "us-east-1")
    if _model(service).operation_model(operation).auth_type == "none":
        assert parsed.signature is None  # botocore sends these unsigned (sts AssumeRoleWithSAML)
    else:
        assert parsed.signature is not None and verify(request, parsed.signature, SECRET)


# cloudwatch's model lists three protocols. botocore 1.44's client speaks the first it supports
# in its own order (ServiceModel.resolved_protocol: json), so the test above sends JSON; CBOR (the
# model's `protocol`) and query (older clients) are sent by botocore's serializers here.
@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "query", "json"])
@pytest.mark.parametrize("operation", _model("cloudwatch").operation_names)
def test_parse_request__reads_cloudwatch__in_each_protocol_its_model_lists(protocol: str, operation: str) -> None:
    params = params_for("cloudwatch", operation)
    request = send_as("cloudwatch", protocol, operation, params)
    parsed = parse_request(request)
    assert (parsed.service, parsed.operation, parsed.protocol) == ("cloudwatch", operation, protocol)
    assert parsed.params == normalise("cloudwatch", operation, params)


def test_parse_request__decodes_an_aws_chunked_upload__with_its_trailing_checksum() -> None:
    body = b"hello world " * 200  # a file-like body over HTTPS: botocore streams it aws-chunked
    request = send("s3", "PutObject", {"Bucket": "labkit-bucket", "Key": "a/b c.txt", "Body": io.BytesIO(body),
                                       "ChecksumAlgorithm": "SHA256"})
    assert request.header("content-encoding") == "aws-chunked"  # the case under test
    parsed = parse_request(request)
    assert parsed.operation == "PutObject"
    assert parsed.params["Body"] == body
    assert parsed.params["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert parsed.params["Key"] == "a/b c.txt" and parsed.params["Bucket"] == "labkit-bucket"
    assert "ContentEncoding" not in parsed.params


def test_round_trip__excludes_only_operations_that_exist() -> None:
    total = sum(len(_model(s).operation_names) for s in SERVICES)
    assert total > 1700  # the 14 services, whole
    assert set(EXCLUDED) <= {(s, o) for s in SERVICES for o in _model(s).operation_names}
