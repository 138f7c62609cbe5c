"""botocore's service models, loaded once through one shared loader, and which service a request is for."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from labkit.wire.http import HttpRequest

__all__ = ["SERVICES", "shared_loader", "service_model", "service_for", "region_from_host", "s3_bucket_from_host"]

#: The services a lab serves, by botocore name.
SERVICES = ("iam", "sts", "s3", "ec2", "dynamodb", "lambda", "sqs", "sns", "kms", "logs", "cloudwatch",
            "organizations", "accessanalyzer", "cloudtrail")

_SUFFIXES = (".amazonaws.com.cn", ".amazonaws.com", ".api.aws")
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\Z")
# Endpoint labels under which the first labels of an S3 host name a bucket (virtual-hosted style):
# s3, s3.<region>, the legacy s3-<region>, s3-accelerate, dual-stack, FIPS, and directory buckets'
# s3express-<zone>. Access points, Object Lambda and Outposts hosts name no bucket.
_S3_BUCKET_ENDPOINT = re.compile(r"s3(-fips|-accelerate|-external-1|express-[a-z0-9-]+|-[a-z]{2}(-gov)?-[a-z]+-\d)?\Z")


@lru_cache(maxsize=1)
def shared_loader() -> Any:
    """The botocore data loader every model here is read through (it caches what it parsed)."""
    from botocore.loaders import create_loader

    return create_loader()


@lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session

    session = botocore.session.Session()
    session.register_component("data_loader", shared_loader())
    return session


@lru_cache(maxsize=1)
def _clients_session() -> Any:
    import botocore.session

    from labkit.lab import _loader

    session = botocore.session.Session()
    session.register_component("data_loader", _loader())
    return session


@lru_cache(maxsize=None)
def service_model(service: str) -> Any:
    """botocore's ServiceModel for ``service`` (a botocore name), built once.

    Read from the data the lab's own clients already loaded, except S3's: S3 clients edit their
    model in place (they drop "/{Bucket}" from request URIs), so S3's is read afresh.
    """
    return (_session() if service == "s3" else _clients_session()).get_service_model(service)


def _signing_names_in_rules(service: str) -> set[str]:
    # Some operations sign with another name than the service's (S3: s3express for directory
    # buckets, s3-object-lambda); the endpoint rule set's auth schemes say which.
    found: set[str] = set()
    stack: list[Any] = [shared_loader().load_service_model(service, "endpoint-rule-set-1")]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("signingName"), str):
                found.add(node["signingName"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@lru_cache(maxsize=None)
def _service_signed_as(signing_name: str) -> str | None:
    """The service signed as ``signing_name``; the one named like it is tried first (all fourteen
    models cost half a second to load, on every lab's first call)."""
    candidates = sorted(SERVICES, key=lambda name: name != signing_name)
    return next((name for name in candidates if service_model(name).signing_name == signing_name), None)



@lru_cache(maxsize=None)
def _other_signing_name(signing_name: str) -> str | None:
    for name in SERVICES:
        if signing_name in _signing_names_in_rules(name):
            return name
    return None


@lru_cache(maxsize=1)
def _by_endpoint_prefix() -> dict[str, str]:
    table = {}
    for name in SERVICES:
        table.setdefault(service_model(name).endpoint_prefix, name)
    return table


@lru_cache(maxsize=1)
def _by_target_prefix() -> dict[str, str]:
    table = {}
    for name in SERVICES:
        prefix = service_model(name).metadata.get("targetPrefix")
        if prefix:
            table.setdefault(prefix, name)
    return table


@lru_cache(maxsize=None)
def _services_with_action(action: str) -> tuple[str, ...]:
    found = []
    for name in SERVICES:
        model = service_model(name)
        if "query" in (model.metadata.get("protocols") or [model.protocol]) or model.protocol == "ec2":
            if action in model.operation_names:
                found.append(name)
    # An unsigned call (sts AssumeRoleWithWebIdentity, say) is likelier for an operation that
    # needs no signature.
    found.sort(key=lambda name: service_model(name).operation_model(action).auth_type != "none")
    return tuple(found)


def _host_labels(request: HttpRequest) -> list[str]:
    host = request.header("host") or ""
    if host.startswith("["):  # an IPv6 literal: no AWS host name
        return []
    host = host.split(":", 1)[0].lower()
    for suffix in _SUFFIXES:
        if host.endswith(suffix):
            return host[: -len(suffix)].split(".")
    return []


def s3_bucket_from_host(request: HttpRequest) -> str | None:
    """The bucket a virtual-hosted S3 request names in its Host header (``bucket.s3.amazonaws.com``)."""
    labels = _host_labels(request)
    for index in range(1, len(labels)):
        if _S3_BUCKET_ENDPOINT.match(labels[index]):
            return ".".join(labels[:index])
    return None


def region_from_host(request: HttpRequest) -> str | None:
    """The region an AWS host name carries (``dynamodb.eu-west-1.amazonaws.com``), if any."""
    for label in _host_labels(request):
        for part in (label, label.partition("-")[2]):  # s3-eu-west-1: the legacy S3 form
            if _REGION.match(part):
                return part
    return None


def service_for(request: HttpRequest, signing_name: str | None) -> str | None:
    """The botocore service a request is for, or None when the lab serves no such service.

    A signed request says it in its credential scope (the signing name: ``monitoring`` is
    cloudwatch). An unsigned one is told by its JSON target or RPC path, by its query ``Action``
    (an operation of one query service), or by its host; failing all, S3, as moto's server assumes.
    """
    if signing_name:
        return _service_signed_as(signing_name) or _other_signing_name(signing_name)
    target = request.header("x-amz-target")
    if target:
        found = _by_target_prefix().get(target.rpartition(".")[0])
        if found:
            return found
    if request.path.startswith("/service/"):
        found = _by_target_prefix().get(request.path.split("/")[2])
        if found:
            return found
    labels = _host_labels(request)
    if s3_bucket_from_host(request) is not None:
        return "s3"
    for label in labels[:2]:
        name = label.removesuffix("-fips")
        if name in _by_endpoint_prefix():
            return _by_endpoint_prefix()[name]
        if name.startswith("s3"):
            return "s3"
    action = _query_action(request)
    if action:
        candidates = _services_with_action(action)
        if candidates:
            return candidates[0]
    return "s3"


def _query_action(request: HttpRequest) -> str | None:
    from urllib.parse import parse_qs

    text = request.query
    if "form-urlencoded" in (request.header("content-type") or "") and request.body:
        text = request.body.decode("utf-8", "replace")
    values = parse_qs(text).get("Action")
    return values[0] if values else None
