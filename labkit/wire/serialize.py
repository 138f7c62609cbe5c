"""Answers in each protocol's wire format: labkit's own response bodies, and AWS's error shapes.

The inverse of botocore's response parsers: what :func:`ok_response` writes, a client reads back
as the dict it was given; what :func:`error_response` writes, a client raises as a ClientError.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime
from email.utils import formatdate
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from labkit.wire import cbor
from labkit.wire.http import HttpResponse
from labkit.wire.models import service_model
from labkit.wire.quirks import BARE_XML_ROOT, wire_body
from labkit.wire.shapes import timestamp

__all__ = ["ok_response", "error_response", "parse_error"]


def _xmlns(model: Any) -> str:
    return model.metadata.get("xmlNamespace") or f"https://{model.endpoint_prefix}.amazonaws.com/doc/{model.api_version}/"


def _meta_headers(service: str, request_id: str) -> list[tuple[str, str]]:
    if service == "s3":
        return [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
    return [("x-amzn-RequestId", request_id)]


def error_response(service: str, protocol: str, *, status: int, code: str, message: str,
                   request_id: str) -> HttpResponse:
    """An AWS error as ``service`` sends it in ``protocol``; clients raise it with that code and message."""
    code_x, message_x, rid = escape(code), escape(message), escape(request_id)
    headers = _meta_headers(service, request_id)
    fault = "Receiver" if status >= 500 else "Sender"  # whose fault: the service's, or the caller's
    if protocol == "query":
        body = (f'<ErrorResponse xmlns="{_xmlns(service_model(service))}"><Error><Type>{fault}</Type>'
                f"<Code>{code_x}</Code><Message>{message_x}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
        return HttpResponse(status, [*headers, ("Content-Type", "text/xml")], body.encode())
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code_x}</Code><Message>{message_x}</Message></Error></Errors>"
                f"<RequestID>{rid}</RequestID></Response>")
        return HttpResponse(status, [*headers, ("Content-Type", "text/xml;charset=UTF-8")], body.encode())
    if protocol == "rest-xml":
        body = f"<Error><Code>{code_x}</Code><Message>{message_x}</Message><RequestId>{rid}</RequestId></Error>"
        return HttpResponse(status, [*headers, ("Content-Type", "application/xml")], body.encode())
    if protocol not in ("json", "rest-json", "smithy-rpc-v2-cbor"):
        raise ValueError(f"not an AWS protocol: {protocol!r}")
    headers.append(("x-amzn-ErrorType", code))
    if service_model(service).metadata.get("awsQueryCompatible") is not None:
        # Services that left the query protocol still tell old clients the query error code.
        headers.append(("x-amzn-query-error", f"{code};{fault}"))
    document = {"__type": code, "message": message}
    if protocol == "smithy-rpc-v2-cbor":
        return HttpResponse(status, [*headers, ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
                            cbor.encode(document))
    return HttpResponse(status, [*headers, ("Content-Type", _json_content_type(service, protocol))],
                        json.dumps(document).encode())


def _json_content_type(service: str, protocol: str) -> str:
    if protocol == "json":
        return f"application/x-amz-json-{service_model(service).metadata.get('jsonVersion', '1.0')}"
    return "application/json"


def ok_response(service: str, protocol: str, operation: str, body: dict[str, Any], *, request_id: str) -> HttpResponse:
    """``operation``'s successful response carrying ``body`` (a dict shaped as boto3 returns it)."""
    model = service_model(service)
    shape = model.operation_model(operation).output_shape
    headers = _meta_headers(service, request_id)
    body = wire_body(service, shape, body)
    if protocol == "query":
        inner = _xml_members(shape, body)[0] if shape is not None else ""
        wrapper = (shape.serialization.get("resultWrapper") if shape is not None else None) or f"{operation}Result"
        text = (f'<{operation}Response xmlns="{_xmlns(model)}"><{wrapper}>{inner}</{wrapper}>'
                f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata></{operation}Response>")
        return HttpResponse(200, [*headers, ("Content-Type", "text/xml")], text.encode())
    if protocol == "ec2":
        inner = _xml_members(shape, body)[0] if shape is not None else ""
        text = (f'<{operation}Response xmlns="{_xmlns(model)}"><requestId>{escape(request_id)}</requestId>'
                f"{inner}</{operation}Response>")
        return HttpResponse(200, [*headers, ("Content-Type", "text/xml;charset=UTF-8")], text.encode())
    if protocol == "json":
        data = _json_value(shape, body) if shape is not None else {}
        return HttpResponse(200, [*headers, ("Content-Type", _json_content_type(service, protocol))],
                            json.dumps(data).encode())
    if protocol == "smithy-rpc-v2-cbor":
        data = _cbor_value(shape, body) if shape is not None else {}
        return HttpResponse(200, [*headers, ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")],
                            cbor.encode(data))
    if protocol not in ("rest-json", "rest-xml"):
        raise ValueError(f"not an AWS protocol: {protocol!r}")
    return _rest_response(service, shape, body, headers, xml=protocol == "rest-xml", operation=operation)


def _rest_response(service: str, shape: Any, body: dict[str, Any], headers: list[tuple[str, str]], *, xml: bool,
                   operation: str) -> HttpResponse:
    if shape is None:
        return HttpResponse(200, headers, b"")
    status, body_members = 200, {}
    for name, member in shape.members.items():
        value = body.get(name)
        location = member.serialization.get("location")
        if value is None:
            continue
        wire = member.serialization.get("name", name)
        if location == "header":
            headers.append((wire, _header_text(member, value)))
        elif location == "headers":
            headers.extend((wire + key, str(item)) for key, item in value.items())
        elif location == "statusCode":
            status = int(value)
        elif not location:
            body_members[name] = value
    bare = BARE_XML_ROOT.get((service, operation)) if xml else None
    if bare is not None:
        member = shape.members[bare]
        text = _text(member, body_members[bare]) if body_members.get(bare) is not None else ""
        return HttpResponse(status, [*headers, ("Content-Type", "application/xml")],
                            f'<{bare} xmlns="{_rest_xmlns(service)}">{text}</{bare}>'.encode())
    payload = shape.serialization.get("payload")
    if payload is not None:
        member, value = shape.members[payload], body_members.get(payload)
        if value is None:
            return HttpResponse(status, headers, b"")
        if member.type_name in ("blob", "string"):
            return HttpResponse(status, headers, value.encode("utf-8") if isinstance(value, str) else bytes(value))
        if xml:
            tag = member.serialization.get("name", member.name)
            return HttpResponse(status, [*headers, ("Content-Type", "application/xml")],
                                _xml_element(tag, member, value, namespace=_rest_xmlns(service)).encode())
        return HttpResponse(status, [*headers, ("Content-Type", "application/json")],
                            json.dumps(_json_value(member, value)).encode())
    if xml:
        if not body_members:
            return HttpResponse(status, headers, b"")
        tag = shape.serialization.get("name") or f"{operation}Result"
        inner, attributes = _xml_members(shape, body_members)
        text = f'<{tag} xmlns="{_rest_xmlns(service)}"{attributes}>{inner}</{tag}>'
        return HttpResponse(status, [*headers, ("Content-Type", "application/xml")], text.encode())
    data = _json_value(shape, body_members)
    return HttpResponse(status, [*headers, ("Content-Type", "application/json")], json.dumps(data).encode())


@lru_cache(maxsize=None)
def _rest_xmlns(service: str) -> str:
    # The namespace the service's own request documents declare (S3: .../doc/2006-03-01/).
    model = service_model(service)
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        for member in shape.members.values() if shape is not None else ():
            namespace = member.serialization.get("xmlNamespace")
            if isinstance(namespace, dict) and namespace.get("uri") and not namespace.get("prefix"):
                return str(namespace["uri"])
    return _xmlns(model)


def parse_error(service: str, protocol: str, status: int, headers: Any, body: bytes) -> tuple[str, str] | None:
    """The (code, message) of an error response (one moto sent, say), read by botocore's own parser.

    None for a successful response. ``headers``: a mapping or (name, value) pairs.
    """
    if status < 300:
        # S3 may answer CopyObject, UploadPartCopy and CompleteMultipartUpload with 200 and an
        # <Error> document (botocore's _handle_200_error): an error all the same.
        if not (service == "s3" and body.lstrip().startswith((b"<Error>", b"<?xml")) and b"<Error>" in body[:200]):
            return None
        status = 500
    from botocore.awsrequest import HeadersDict
    from botocore.parsers import ResponseParserError, create_parser

    pairs = headers.items() if hasattr(headers, "items") else headers
    response = {"status_code": status, "headers": HeadersDict(pairs), "body": body, "context": {}}
    try:
        parsed = create_parser(protocol).parse(response, None)
    except (ResponseParserError, ValueError, KeyError, AttributeError):
        return (str(status), body.decode("utf-8", "replace")[:200])
    error = parsed.get("Error") or {}
    return (str(error.get("Code") or status), str(error.get("Message") or ""))


# -- scalars --------------------------------------------------------------------------------------


def _timestamp_text(shape: Any, value: Any, default: str) -> Any:
    moment = timestamp(value)
    form = shape.serialization.get("timestampFormat", default)
    if form == "iso8601":
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{moment.microsecond // 1000:03d}Z" if moment.microsecond else "Z")
    if form == "rfc822":
        return formatdate(moment.timestamp(), usegmt=True)
    seconds = moment.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def _b64(value: Any) -> str:
    return base64.b64encode(value.encode("utf-8") if isinstance(value, str) else bytes(value)).decode()


def _text(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(_timestamp_text(shape, value, "iso8601"))
    if kind == "blob":
        return _b64(value)
    if kind in ("float", "double"):
        return _float_text(value)
    return escape(str(value))


def _header_text(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return str(_timestamp_text(shape, value, "rfc822"))
    if kind == "list":
        items = [_header_text(shape.member, item) for item in value]
        return ",".join(f'"{item}"' if "," in item or '"' in item else item for item in items)
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return _b64(json.dumps(value, separators=(",", ":")))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        return _b64(value)
    if kind in ("float", "double"):
        return _float_text(value)
    return str(value)


# -- XML (query, ec2, rest-xml) -------------------------------------------------------------------


def _namespace_attribute(shape: Any) -> str:
    namespace = shape.serialization.get("xmlNamespace")
    if isinstance(namespace, dict):
        name = f"xmlns:{namespace['prefix']}" if namespace.get("prefix") else "xmlns"
        return f" {name}={quoteattr(namespace.get('uri', ''))}"
    return f" xmlns={quoteattr(namespace)}" if isinstance(namespace, str) else ""


def _xml_element(tag: str, shape: Any, value: Any, *, namespace: str | None = None) -> str:
    opening = tag + (f" xmlns={quoteattr(namespace)}" if namespace else _namespace_attribute(shape))
    kind = shape.type_name
    if kind == "structure":
        inner, attributes = _xml_members(shape, value)
        return f"<{opening}{attributes}>{inner}</{tag}>"
    if kind == "list":
        item = shape.member.serialization.get("name", "member")
        return f"<{opening}>" + "".join(_xml_element(item, shape.member, v) for v in value) + f"</{tag}>"
    if kind == "map":
        return f"<{opening}>" + "".join(f"<entry>{_xml_pair(shape, k, v)}</entry>" for k, v in value.items()) + f"</{tag}>"
    return f"<{opening}>{_text(shape, value)}</{tag}>"


def _xml_pair(shape: Any, key: Any, value: Any) -> str:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    return _xml_element(key_name, shape.key, key) + _xml_element(value_name, shape.value, value)


def _xml_members(shape: Any, body: dict[str, Any]) -> tuple[str, str]:
    """A structure's body members as XML children, and its attribute members as attribute text."""
    parts, attributes = [], ""
    for name, member in shape.members.items():
        value = body.get(name)
        if value is None or member.serialization.get("location"):
            continue
        tag = member.serialization.get("name", name)
        if member.serialization.get("xmlAttribute"):
            attributes += f" {tag}={quoteattr(str(value))}"
        elif member.type_name == "list" and member.serialization.get("flattened"):
            item = member.member.serialization.get("name", tag)
            parts += [_xml_element(item, member.member, v) for v in value]
        elif member.type_name == "map" and member.serialization.get("flattened"):
            parts += [f"<{tag}>{_xml_pair(member, k, v)}</{tag}>" for k, v in value.items()]
        else:
            parts.append(_xml_element(tag, member, value))
    return "".join(parts), attributes


# -- JSON and CBOR ---------------------------------------------------------------------------------


def _json_value(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        return {member.serialization.get("name", name): _json_value(member, value[name])
                for name, member in shape.members.items() if value.get(name) is not None
                and not member.serialization.get("location")}
    if kind == "list":
        return [_json_value(shape.member, item) for item in value]
    if kind == "map":
        return {str(key): _json_value(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        return _timestamp_text(shape, value, "unixtimestamp")
    if kind == "blob":
        return _b64(value)
    if kind in ("float", "double"):
        return float(value)
    return value


def _cbor_value(shape: Any, value: Any) -> Any:
    # botocore's RPCv2 parser reads members by their Python names and timestamps from tag 1.
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        return {name: _cbor_value(member, value[name]) for name, member in shape.members.items()
                if value.get(name) is not None}
    if kind == "list":
        return [_cbor_value(shape.member, item) for item in value]
    if kind == "map":
        return {str(key): _cbor_value(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        return value if isinstance(value, datetime) else timestamp(value)
    if kind == "blob":
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if kind in ("float", "double"):
        return float(value)
    return value
