"""Which REST operation a request is: its method and path against each operation's ``requestUri``.

An operation matches when its method is the request's, its path template (``{Label}``, greedy
``{Key+}``) matches the path, the query keys its URI fixes (``?policy``, ``?list-type=2``) are
there, and so are its required query and header members (S3's ``uploadId``, ``x-amz-copy-source``).
Among matches the most specific wins: most required query keys and headers, then most literal
path characters; between equals, the one whose members name more of the request's query keys and
headers (S3 ListDirectoryBuckets' ``max-directory-buckets``), then a current operation over a
deprecated twin with the same route. Some clients (the AWS SDK for JavaScript v3, older botocore)
also name the operation in an ``x-id`` query key: that route is tried first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from labkit.wire.models import service_model

__all__ = ["Route", "match_route"]

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    """One REST operation's route."""

    operation: str
    pattern: re.Pattern[str]
    labels: tuple[tuple[str, str], ...]  # (regex group, label name as in the template)
    query: tuple[tuple[str, str | None], ...]  # fixed query keys, with their value when fixed
    query_members: tuple[str, ...]  # required querystring members' keys
    header_members: tuple[str, ...]  # required header members' names, lower case
    rank: tuple[int, int]  # (required query keys and headers, literal path characters)
    current: bool  # not deprecated
    names: frozenset[str]  # every querystring and header member's wire name (headers lower case)

    def match(self, path: str, query: dict[str, str], headers: Any) -> dict[str, str] | None:
        """The label values (decoded) when the request takes this route, else None."""
        for key, value in self.query:  # cheapest first: most routes differ by their fixed query keys
            if key not in query or (value is not None and query[key] != value):
                return None
        if any(key not in query for key in self.query_members):
            return None
        if any(name not in headers for name in self.header_members):
            return None
        found = self.pattern.match(path)
        if found is None:
            return None
        return {label: unquote(found.group(group)) for group, label in self.labels}


def _route(model: Any, name: str) -> tuple[str, Route]:
    operation = model.operation_model(name)
    http = operation.http
    path, _, fixed = http.get("requestUri", "/").partition("?")
    query = []
    for part in fixed.split("&") if fixed else ():
        key, eq, value = part.partition("=")
        if key != "x-id":  # a hint, not a requirement: other clients leave it out
            query.append((key, value if eq else None))
    pattern, literal, labels, position = "", 0, [], 0
    for index, found in enumerate(_LABEL.finditer(path)):
        pattern += re.escape(path[position:found.start()])
        literal += found.start() - position
        label = found.group(1)
        group = f"g{index}"
        labels.append((group, label.rstrip("+")))
        pattern += f"(?P<{group}>.+)" if label.endswith("+") else f"(?P<{group}>[^/]+)"
        position = found.end()
    tail = path[position:]
    literal += len(tail)
    # A trailing slash is optional on the wire ("/2015-03-31/functions/" or ".../functions").
    pattern += re.escape(tail.rstrip("/")) + "/?"
    shape = operation.input_shape
    query_members, header_members, names = [], [], set()
    for member_name, member in shape.members.items() if shape is not None else ():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", member_name)
        if location == "querystring" and member.type_name != "map":
            names.add(wire)
            if member_name in shape.required_members:
                query_members.append(wire)
        elif location == "header":
            names.add(wire.lower())
            if member_name in shape.required_members:
                header_members.append(wire.lower())
    rank = (len(query) + len(query_members) + len(header_members), literal)
    route = Route(name, re.compile(pattern + r"\Z"), tuple(labels), tuple(query), tuple(query_members),
                  tuple(header_members), rank, not operation.deprecated, frozenset(names))
    return http.get("method", "POST").upper(), route


@lru_cache(maxsize=None)
def _table(service: str) -> tuple[dict[str, list[Route]], dict[tuple[str, str], Route]]:
    model = service_model(service)
    by_method: dict[str, list[Route]] = {}
    by_name: dict[tuple[str, str], Route] = {}
    for name in model.operation_names:
        method, route = _route(model, name)
        by_method.setdefault(method, []).append(route)
        by_name[method, name] = route
    for routes in by_method.values():
        routes.sort(key=lambda route: route.rank, reverse=True)
    return by_method, by_name


def match_route(service: str, method: str, path: str, query: dict[str, str],
                headers: Any) -> tuple[str, dict[str, str]] | None:
    """The operation a REST request is, and its decoded uri labels; None when none matches.

    ``headers`` is anything that answers ``in`` for lower-case header names.
    """
    by_method, by_name = _table(service)
    named = by_name.get((method, query["x-id"])) if "x-id" in query else None
    if named is not None:
        labels = named.match(path, query, headers)
        if labels is not None:
            return named.operation, labels
    best: tuple[tuple[int, bool], Route, dict[str, str]] | None = None
    for route in by_method.get(method, ()):
        if best is not None and route.rank != best[1].rank:
            break  # routes are sorted by rank: the rest are less specific
        labels = route.match(path, query, headers)
        if labels is not None:
            score = (sum(1 for key in query if key in route.names) + sum(1 for name in headers if name in route.names),
                     route.current)
            if best is None or score > best[0]:
                best = (score, route, labels)
    return (best[1].operation, best[2]) if best is not None else None
