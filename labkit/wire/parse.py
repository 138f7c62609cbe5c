"""A request as it arrived, decoded into the call a boto3 caller made: service, operation, parameters.

Generic over botocore's service models: each decoder is the inverse of botocore's serializer for
its protocol (query, ec2, json, smithy-rpc-v2-cbor here; rest-json and rest-xml in ``rest``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from labkit.wire import cbor
from labkit.wire.errors import WireError
from labkit.wire.http import HttpRequest, decode_aws_chunked
from labkit.wire.models import region_from_host, service_for, service_model
from labkit.wire.quirks import undo_client_handlers
from labkit.wire.rest import decode_rest
from labkit.wire.shapes import from_json, scalar
from labkit.wire.sigv4 import Signature, signature_of

__all__ = ["ParsedCall", "parse_request"]

# The code AWS answers a body it cannot read with, per protocol.
_MALFORMED = {"query": "MalformedQueryString", "ec2": "MalformedQueryString", "rest-xml": "MalformedXML"}


@dataclass
class ParsedCall:
    """A request as the call its caller made: what a boto3 caller passed to the client method."""

    service: str  # botocore name: "iam", "s3", "cloudwatch"
    operation: str  # botocore operation name: "ListUsers", "GetObject"
    params: dict[str, Any]
    protocol: str  # the wire protocol the request used
    region: str
    signature: Signature | None


def parse_request(request: HttpRequest) -> ParsedCall:
    """Decode ``request``; WireError (with AWS's code) for an unknown service or operation, or a bad body."""
    try:
        signature = signature_of(request)
    except WireError as error:  # a malformed signature: answer it in the protocol the request seems to use
        guess = service_for(request, None) or "s3"
        error.service, error.protocol = guess, _protocol(request, service_model(guess))
        raise
    signing_name = signature.service if signature else None
    service = service_for(request, signing_name)
    if service is None:
        raise WireError("UnknownService", f"labkit's lab does not serve the service {signing_name!r} "
                        "(a signing name).", 400)
    model = service_model(service)
    protocol = _protocol(request, model)
    region = (signature.region if signature else "") or region_from_host(request) or "us-east-1"
    try:
        body, headers = _body(request)
        if protocol in ("query", "ec2"):
            operation, params = _decode_query(model, request, body, ec2=protocol == "ec2")
        elif protocol == "json":
            operation, params = _decode_json(model, request.header("x-amz-target") or "", body)
        elif protocol == "smithy-rpc-v2-cbor":
            operation, params = _decode_cbor(model, request.path, body)
        else:
            operation, params = decode_rest(service, request, body, headers, xml=protocol == "rest-xml")
    except WireError as error:
        error.service, error.protocol = service, protocol
        raise
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        code = _MALFORMED.get(protocol, "SerializationException")
        raise WireError(code, f"labkit could not read the {protocol} request: {error}", 400, service=service,
                        protocol=protocol) from None
    return ParsedCall(service, operation, undo_client_handlers(service, operation, params), protocol, region, signature)


def _protocol(request: HttpRequest, model: Any) -> str:
    """The protocol a request uses: the model's, or another it lists (cloudwatch takes three)."""
    if model.protocol in ("query", "ec2"):
        return model.protocol
    supported = model.metadata.get("protocols") or [model.protocol]
    content_type = (request.header("content-type") or "").lower()
    if "smithy-rpc-v2-cbor" in supported and (request.header("smithy-protocol") == "rpc-v2-cbor"
                                               or "cbor" in content_type):
        return "smithy-rpc-v2-cbor"
    if request.header("x-amz-target") and "json" in supported:
        return "json"
    if ("query" in supported or model.metadata.get("awsQueryCompatible") is not None) and (
            "form-urlencoded" in content_type or "Action=" in request.query):
        return "query"  # an older client of a service that left the query protocol
    return model.protocol


def _body(request: HttpRequest) -> tuple[bytes, dict[str, str]]:
    """The body with any aws-chunked encoding removed, and the headers with its trailers added."""
    headers = dict(request.lower_headers)
    encodings = [e.strip() for e in headers.get("content-encoding", "").split(",") if e.strip()]
    streaming = headers.get("x-amz-content-sha256", "").startswith("STREAMING-")
    if "aws-chunked" not in encodings and not streaming:
        return request.body, headers
    body, trailers = decode_aws_chunked(request.body)
    headers.update(trailers)
    headers.pop("x-amz-trailer", None)
    encodings = [e for e in encodings if e != "aws-chunked"]
    if encodings:
        headers["content-encoding"] = ",".join(encodings)
    else:
        headers.pop("content-encoding", None)
    if "x-amz-decoded-content-length" in headers:
        headers["content-length"] = headers.pop("x-amz-decoded-content-length")
    return body, headers


def _operation(model: Any, name: str | None, *, code: str) -> Any:
    if not name or name not in model.operation_names:
        if code == "InvalidAction":
            raise WireError(code, f"Could not find operation {name} for version {model.api_version}", 400)
        raise WireError(code, f"Unknown operation {name}", 400)
    return model.operation_model(name)


def _decode_json(model: Any, target: str, body: bytes) -> tuple[str, dict[str, Any]]:
    prefix, _, name = target.rpartition(".")
    if prefix != model.metadata.get("targetPrefix"):
        name = ""
    operation = _operation(model, name, code="UnknownOperationException")
    value = json.loads(body) if body.strip() else {}
    if not isinstance(value, dict):
        raise ValueError("the JSON body is not an object")
    return operation.name, _typed(operation, value)


def _decode_cbor(model: Any, path: str, body: bytes) -> tuple[str, dict[str, Any]]:
    # smithy-rpc-v2-cbor: POST /service/{ServiceName}/operation/{Operation}
    parts = path.rstrip("/").split("/")
    valid = len(parts) == 5 and parts[1] == "service" and parts[3] == "operation"
    if valid and parts[2] != model.metadata.get("targetPrefix"):
        valid = False
    operation = _operation(model, parts[4] if valid else None, code="UnknownOperationException")
    value = cbor.decode(body) if body else {}
    if not isinstance(value, dict):
        raise ValueError("the CBOR body is not a map")
    return operation.name, _typed(operation, value)


def _typed(operation: Any, value: dict[str, Any]) -> dict[str, Any]:
    if operation.input_shape is None:
        return {}
    return from_json(operation.input_shape, value)  # type: ignore[no-any-return]


# -- query and ec2 --------------------------------------------------------------------------------


def _decode_query(model: Any, request: HttpRequest, body: bytes, *, ec2: bool) -> tuple[str, dict[str, Any]]:
    # Parameters come in a form body, or in the URL's query (a GET, or a presigned URL).
    form = dict(parse_qsl(request.query, keep_blank_values=True))
    if body:
        form.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    action = form.pop("Action", None)
    if not action:
        raise WireError("MissingAction", "Missing Action", 400)
    operation = _operation(model, action, code="InvalidAction")
    if operation.input_shape is None:
        return operation.name, {}
    return operation.name, _query_structure(operation.input_shape, _tree(form), ec2=ec2)


def _tree(form: dict[str, str]) -> dict[str, Any]:
    """Flat ``A.member.1.B`` keys as nested dicts, a value's text under the key ``""``."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        node = root
        for part in key.split("."):
            node = node.setdefault(part, {})
        node[""] = value
    return root


def _name(shape: Any, default: str, *, ec2: bool) -> str:
    # ec2 names a member by its queryName, else its locationName capitalised (as botocore's
    # EC2Serializer does); query by its locationName.
    if ec2:
        if "queryName" in shape.serialization:
            return shape.serialization["queryName"]  # type: ignore[no-any-return]
        if "name" in shape.serialization:
            name = shape.serialization["name"]
            return name[0].upper() + name[1:]  # type: ignore[no-any-return]
        return default
    return shape.serialization.get("name", default)  # type: ignore[no-any-return]


def _indexed(node: dict[str, Any]) -> list[Any]:
    return [child for _, child in sorted((int(k), v) for k, v in node.items() if k.isdigit())]


def _query_value(shape: Any, node: dict[str, Any], *, ec2: bool) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _query_structure(shape, node, ec2=ec2)
    if kind == "list":
        if not ec2 and not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member"), {})
        return [_query_value(shape.member, child, ec2=ec2) for child in _indexed(node)]
    if kind == "map":
        entries = node if shape.serialization.get("flattened") else node.get("entry", {})
        key_name, value_name = _name(shape.key, "key", ec2=ec2), _name(shape.value, "value", ec2=ec2)
        out = {}
        for entry in _indexed(entries):
            if key_name in entry:
                out[scalar(shape.key, entry[key_name].get("", ""))] = _query_value(shape.value, entry.get(value_name, {}),
                                                                                   ec2=ec2)
        return out
    if "" not in node:
        raise ValueError(f"a value was expected for {shape.name}")
    return scalar(shape, node[""])


def _query_structure(shape: Any, node: dict[str, Any], *, ec2: bool) -> dict[str, Any]:
    out = {}
    for member_name, member in shape.members.items():
        key = _name(member, member_name, ec2=ec2)
        if not ec2 and member.type_name == "list" and member.serialization.get("flattened"):
            # botocore names a flattened list's items by the list member's locationName, if any.
            key = member.member.serialization.get("name", key)
        if key not in node:
            continue
        child = node[key]
        if member.type_name in ("list", "map") and child.get("") == "" and len(child) == 1:
            out[member_name] = [] if member.type_name == "list" else {}  # an empty list is sent as "Name="
        else:
            out[member_name] = _query_value(member, child, ec2=ec2)
    return out
