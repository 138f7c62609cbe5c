"""rest-json and rest-xml requests decoded: uri labels, query string, headers, payload and body members."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from labkit.wire.errors import WireError
from labkit.wire.http import HttpRequest
from labkit.wire.models import s3_bucket_from_host, service_model
from labkit.wire.routes import match_route
from labkit.wire.shapes import from_json, header_value, scalar

__all__ = ["decode_rest", "xml_root", "xml_value"]

# Query keys of SigV4 query authentication (presigned URLs): never an operation's parameter.
_PRESIGN_KEYS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                           "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"})


def decode_rest(service: str, request: HttpRequest, body: bytes, headers: Mapping[str, str],
                *, xml: bool) -> tuple[str, dict[str, Any]]:
    """The operation and parameters of a REST request (``headers``: lower-case names)."""
    model = service_model(service)
    path = request.path or "/"
    if service == "s3":
        bucket = s3_bucket_from_host(request)
        if bucket:  # virtual-hosted style: the bucket is the path's first segment
            path = "/" + bucket + ("" if path == "/" else path)
    pairs = parse_qsl(request.query, keep_blank_values=True)
    query = dict(pairs)
    found = match_route(service, request.method.upper(), path, query, headers)
    if found is None:
        if xml:
            raise WireError("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
        raise WireError("UnknownOperationException", f"No operation of {model.service_name} matches "
                        f"{request.method} {path}", 404)
    name, labels = found
    plan = _plan(service, name)
    if plan is None:
        return name, {}
    params: dict[str, Any] = {}
    for member_name, member, wire in plan.uri:
        if wire in labels:
            params[member_name] = scalar(member, labels[wire])
    for member_name, member, wire in plan.query:
        value = _query_member(member, wire, pairs, plan.claimed)
        if value is not None:
            params[member_name] = value
    for member_name, member, wire in plan.headers:
        if wire in headers:
            params[member_name] = header_value(member, headers[wire])
    for member_name, prefix in plan.prefixed:
        found_map = {k[len(prefix):]: v for k, v in headers.items() if k.startswith(prefix)}
        if found_map:
            params[member_name] = found_map
    if plan.payload is not None:
        value = _payload(plan.payload[1], body, xml=xml)
        if value is not None:
            params[plan.payload[0]] = value
    elif plan.body and body.strip():
        shape = plan.shape
        decoded = _xml_structure(shape, xml_root(body), only=plan.body) if xml else from_json(shape, _json_object(body))
        params.update({k: v for k, v in decoded.items() if k in plan.body})
    return name, params


@dataclass(frozen=True)
class _Plan:
    """Where each input member of a REST operation travels."""

    shape: Any
    uri: tuple[tuple[str, Any, str], ...]  # (member, shape, label)
    query: tuple[tuple[str, Any, str], ...]  # (member, shape, query key)
    headers: tuple[tuple[str, Any, str], ...]  # (member, shape, lower-case header name)
    prefixed: tuple[tuple[str, str], ...]  # (member, lower-case header prefix): x-amz-meta-
    payload: tuple[str, Any] | None
    body: tuple[str, ...]
    claimed: frozenset[str]  # query keys that are no querystring map's entries


@lru_cache(maxsize=None)
def _plan(service: str, name: str) -> _Plan | None:
    operation = service_model(service).operation_model(name)
    shape = operation.input_shape
    if shape is None:
        return None
    places: dict[str, list[Any]] = {"uri": [], "querystring": [], "header": [], "headers": [], "": []}
    payload_name = shape.serialization.get("payload")
    payload = None
    for member_name, member in shape.members.items():
        location = member.serialization.get("location", "")
        wire = member.serialization.get("name", member_name)
        if location == "header":
            places["header"].append((member_name, member, wire.lower()))
        elif location == "headers":
            places["headers"].append((member_name, wire.lower()))
        elif location:
            places[location].append((member_name, member, wire))
        elif member_name == payload_name:
            payload = (member_name, member)
        elif payload_name is None:
            places[""].append(member_name)
    claimed = {wire for _, member, wire in places["querystring"] if member.type_name != "map"}
    claimed |= _fixed_query_keys(operation) | {"x-id"} | _PRESIGN_KEYS
    return _Plan(shape, tuple(places["uri"]), tuple(places["querystring"]), tuple(places["header"]),
                 tuple(places["headers"]), payload, tuple(places[""]), frozenset(claimed))


def _fixed_query_keys(operation: Any) -> set[str]:
    fixed = operation.http.get("requestUri", "").partition("?")[2]
    return {part.partition("=")[0] for part in fixed.split("&") if part}


def _query_member(member: Any, wire: str, pairs: list[tuple[str, str]], claimed: frozenset[str]) -> Any:
    if member.type_name == "map":
        found: dict[str, Any] = {}
        for key, value in pairs:
            if key in claimed:
                continue
            if member.value.type_name == "list":
                found.setdefault(key, []).append(scalar(member.value.member, value))
            else:
                found[key] = scalar(member.value, value)
        return found or None
    values = [value for key, value in pairs if key == wire]
    if not values:
        return None
    if member.type_name == "list":
        return [scalar(member.member, value) for value in values]
    return scalar(member, values[-1])


def _json_object(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the JSON body is not an object")
    return value


def _payload(member: Any, body: bytes, *, xml: bool) -> Any:
    if member.type_name == "blob":
        return body if body else None
    if member.type_name == "string":
        return body.decode("utf-8") if body else None
    if not body.strip():
        return None
    if xml:
        return xml_value(member, xml_root(body))
    value = from_json(member, _json_object(body))
    return value or None  # "{}" is what a client sends when the caller passed nothing


def xml_root(body: bytes) -> ElementTree.Element:
    """The root element of an XML document, namespaces dropped from tag names."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise WireError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                        "against our published schema") from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def _xml_structure(shape: Any, element: ElementTree.Element, *, only: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in only if only is not None else shape.members:
        member = shape.members[name]
        wire = member.serialization.get("name", name)
        if member.serialization.get("xmlAttribute"):
            local = wire.split(":", 1)[-1]
            for key, value in element.attrib.items():
                if key.split("}", 1)[-1] == local:
                    out[name] = value
            continue
        if member.serialization.get("flattened") and member.type_name in ("list", "map"):
            tags = {wire, member.member.serialization.get("name", wire)} if member.type_name == "list" else {wire}
            items = [child for child in element if child.tag in tags]
            if items:
                out[name] = (_xml_entries(member, items) if member.type_name == "map"
                             else [xml_value(member.member, child) for child in items])
            continue
        child = next((c for c in element if c.tag == wire), None)
        if child is not None:
            out[name] = xml_value(member, child)
    return out


def _xml_entries(shape: Any, entries: list[ElementTree.Element]) -> dict[str, Any]:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    out = {}
    for entry in entries:
        key, value = entry.find(key_name), entry.find(value_name)
        if key is not None and value is not None:
            out[scalar(shape.key, key.text or "")] = xml_value(shape.value, value)
    return out


def xml_value(shape: Any, element: ElementTree.Element) -> Any:
    """An XML element's content as the type of ``shape``."""
    kind = shape.type_name
    if kind == "structure":
        return _xml_structure(shape, element)
    if kind == "list":
        tag = shape.member.serialization.get("name", "member")
        return [xml_value(shape.member, child) for child in element if child.tag == tag]
    if kind == "map":
        return _xml_entries(shape, [child for child in element if child.tag == "entry"])
    return scalar(shape, element.text or "")
