"""CloudTrail's LookupEvents (Event history), answered from the lab's trail; moto has no such API."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from labkit.apis import ApiError, api

__all__ = ["lookup_events"]

# Event history keeps "the past 90 days of management events in an AWS Region".
HISTORY = timedelta(days=90)
MAX_RESULTS = 50

_ATTRIBUTES = {
    "EventId": lambda e: (e.event_id,),
    "EventName": lambda e: (e.event_name,),
    "ReadOnly": lambda e: ("true" if e.read_only else "false",),
    "Username": lambda e: (e.username,),
    "ResourceType": lambda e: tuple(r["ResourceType"] for r in e.resources),
    "ResourceName": lambda e: tuple(r["ResourceName"] for r in e.resources),
    "EventSource": lambda e: (e.event_source,),
    "AccessKeyId": lambda e: (e.access_key_id,),
}


def _time(value: Any, name: str) -> datetime:
    from botocore.utils import parse_to_aware_datetime

    try:
        return parse_to_aware_datetime(value)
    except (ValueError, TypeError):
        raise ApiError("InvalidTimeRangeException", f"{name} {value!r} is not a valid timestamp.") from None


def _query_digest(params: dict[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _token(before: int, digest: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": before, "query": digest}).encode()).decode()


def _before(token: str, digest: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        before, query = int(data["before"]), data["query"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise ApiError("InvalidNextTokenException", "Invalid NextToken.") from None
    if query != digest:
        raise ApiError("InvalidNextTokenException",
                       "The NextToken was issued for a request with different parameters; "
                       "pass the same parameters with it.")
    return before


def _matcher(attributes: list[dict[str, Any]]) -> Any:
    if not attributes:
        return None
    if len(attributes) > 1:
        raise ApiError("InvalidLookupAttributesException", "You can specify only one lookup attribute per request.")
    key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
    if key not in _ATTRIBUTES:
        raise ApiError("InvalidLookupAttributesException",
                       f"Lookup attribute key {key!r} is not valid. Valid keys: {', '.join(_ATTRIBUTES)}.")
    values = _ATTRIBUTES[key]
    return lambda event: value in values(event)


@api("cloudtrail", "LookupEvents")
def lookup_events(call: Any, lab: Any) -> dict[str, Any]:
    """Management events recorded in the caller's region in the last 90 days, newest first."""
    params = call.params
    if params.get("EventCategory") not in (None, "insight"):
        raise ApiError("InvalidEventCategoryException", f"Event category {params['EventCategory']!r} is not valid.")
    limit = params.get("MaxResults", MAX_RESULTS)
    if not 1 <= limit <= MAX_RESULTS:
        raise ApiError("InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_RESULTS}.")
    match = _matcher(list(params.get("LookupAttributes") or []))
    start = _time(params["StartTime"], "StartTime") if "StartTime" in params else None
    end = _time(params["EndTime"], "EndTime") if "EndTime" in params else None
    if start is not None and end is not None and start > end:
        raise ApiError("InvalidTimeRangeException", "Start time must be before end time.")
    digest = _query_digest(params)
    before = _before(params["NextToken"], digest) if params.get("NextToken") else None
    trail = getattr(lab, "trail", None)
    if trail is None or params.get("EventCategory") == "insight":
        return {"Events": []}  # the lab has no CloudTrail Insights
    oldest = trail.now() - HISTORY
    if start is None or start < oldest:
        start = oldest
    region = call.region or lab.region
    found = []
    for event in trail.newest_first():
        if before is not None and event.seq >= before:
            continue
        if event.time < start:
            break
        if end is not None and event.time > end:
            continue
        if not event.authenticated or not event.management or event.region != region:
            continue
        if match is not None and not match(event):
            continue
        found.append(event)
        if len(found) > limit:
            break
    body: dict[str, Any] = {"Events": [e.to_lookup() for e in found[:limit]]}
    if len(found) > limit:
        body["NextToken"] = _token(found[limit - 1].seq, digest)
    return body
