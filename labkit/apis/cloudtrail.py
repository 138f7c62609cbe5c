"""CloudTrail's view of the lab's trail: its event shapes, and LookupEvents (Event history), which moto lacks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from labkit.apis import ApiError, api
from labkit.trail import is_payload

__all__ = ["lookup_events", "cloudtrail_event", "lookup_event", "recipient_accounts", "request_parameters", "HIDDEN"]

#: What CloudTrail writes in place of a secret request parameter.
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
_SECRET_NAMES = frozenset({"sessiontoken", "privatekey", "samlassertion", "webidentitytoken", "tokencode"})

# Event history keeps "the past 90 days of management events in an AWS Region".
HISTORY = timedelta(days=90)
MAX_RESULTS = 50

# -- event shapes -----------------------------------------------------------------------------------


def recipient_accounts(event: Any) -> tuple[str, ...]:
    """The accounts whose Event history holds the event: the caller's, and for AssumeRole the role's.

    ("That operation is logged in the calling account and the account where the AWS STS operation
    is performed", cloudtrail-integration.md.)
    """
    caller = event.record.caller
    if caller is None:
        return ()
    accounts = (caller.account_id,)
    role_arn = event.record.call.params.get("RoleArn") if event.event_name.startswith("AssumeRole") else None
    if event.record.call.service == "sts" and isinstance(role_arn, str) and role_arn.count(":") >= 5:
        role_account = role_arn.split(":")[4]
        if role_account != caller.account_id:
            accounts += (role_account,)
    return accounts


def _foreign(event: Any, account: str | None) -> bool:
    caller = event.record.caller
    return account is not None and caller is not None and account != caller.account_id


def cloudtrail_event(event: Any, account: str | None = None) -> dict[str, Any]:
    """A trail event as CloudTrail writes it in ``account``'s log (the ``CloudTrailEvent`` JSON, as a dict).

    In another account's log (the role's, for a cross-account AssumeRole) the caller shows as
    that account: ``{"type": "AWSAccount", ...}``.
    """
    record, caller = event.record, event.record.caller
    foreign = _foreign(event, account)
    recipient = account if account is not None else (caller.account_id if caller is not None else None)
    identity = ({"type": "AWSAccount", "principalId": caller.user_id, "accountId": caller.account_id} if foreign
                else _user_identity(caller, event.access_key_id))
    shaped: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": event.time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event.event_source,
        "eventName": event.event_name,
        "awsRegion": event.region,
        "sourceIPAddress": event.source_ip,
        "userAgent": getattr(record.call, "user_agent", None) or _user_agent(),
    }
    if record.error_code:
        shaped["errorCode"] = record.error_code
        shaped["errorMessage"] = record.error_message or ""
    shaped.update(requestParameters=request_parameters(record.call.service, record.call.params),
                  responseElements=None, requestID=event.request_id, eventID=event.event_id, readOnly=event.read_only)
    if event.resources:
        shaped["resources"] = [{"accountId": recipient, "type": r["ResourceType"], "ARN": r["ResourceName"]}
                               for r in event.resources]
    if len(recipient_accounts(event)) > 1:
        shaped["sharedEventID"] = event.request_id
    shaped.update(eventType="AwsApiCall", managementEvent=event.management, recipientAccountId=recipient,
                  eventCategory="Management" if event.management else "Data")
    return shaped


def _username(event: Any, account: str | None) -> str | None:
    return None if _foreign(event, account) else event.username


def lookup_event(event: Any, account: str | None = None) -> dict[str, Any]:
    """A trail event as ``cloudtrail.lookup_events`` returns it to ``account``."""
    shaped: dict[str, Any] = {"EventId": event.event_id, "EventName": event.event_name,
                              "ReadOnly": "true" if event.read_only else "false"}
    if event.access_key_id and not _foreign(event, account):
        shaped["AccessKeyId"] = event.access_key_id
    shaped.update(EventTime=event.time, EventSource=event.event_source)
    username = _username(event, account)
    if username:
        shaped["Username"] = username
    shaped.update(Resources=event.resources, CloudTrailEvent=json.dumps(cloudtrail_event(event, account)))
    return shaped


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _secret(name: str) -> bool:
    lowered = name.lower()
    return "password" in lowered or "secret" in lowered or lowered in _SECRET_NAMES


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {_camel(str(k)): HIDDEN if isinstance(v, str) and _secret(str(k)) else _jsonable(v)
                for k, v in value.items() if not is_payload(v)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value if not is_payload(v)]
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def request_parameters(service: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """CloudTrail's requestParameters for a call: camelCase names, secrets hidden, payloads left out."""
    if not params:
        return None
    shaped = _jsonable(params)
    if service == "s3" and "bucket" in shaped:
        shaped["bucketName"] = shaped.pop("bucket")
    return shaped


def _user_identity(caller: Any, access_key: str | None) -> dict[str, Any]:
    if caller is None:
        return {"type": "Unknown", "accessKeyId": access_key}
    base = {"principalId": caller.user_id, "arn": caller.arn, "accountId": caller.account_id, "accessKeyId": access_key}
    session = getattr(caller, "session", None)
    if caller.kind == "admin":
        return {"type": "Root", **base}
    if caller.kind in ("user", "user-session"):
        identity = {"type": "IAMUser", **base, "userName": getattr(caller, "user_name", None) or caller.name}
    elif caller.kind == "assumed-role":
        role_arn = getattr(caller, "role_arn", None) or ""
        issuer = {"type": "Role", "principalId": caller.user_id.split(":", 1)[0], "arn": role_arn,
                  "accountId": caller.account_id, "userName": role_arn.rsplit("/", 1)[-1]}
        identity = {"type": "AssumedRole", **base, "sessionContext": {"sessionIssuer": issuer}}
    elif caller.kind == "federated-user":
        identity = {"type": "FederatedUser", **base, "sessionContext": {"sessionIssuer": {
            "type": "IAMUser", "accountId": caller.account_id, "userName": getattr(caller, "user_name", None)}}}
    else:
        identity = {"type": "Unknown", **base}
    if session is not None:
        context = identity.setdefault("sessionContext", {})
        context["attributes"] = {"mfaAuthenticated": "true" if getattr(session, "mfa_time", None) else "false"}
        if getattr(session, "source_identity", None):
            context["sourceIdentity"] = session.source_identity
    return identity


@lru_cache(maxsize=1)
def _user_agent() -> str:
    import platform

    import boto3
    import botocore

    return (f"Boto3/{boto3.__version__} md/Botocore#{botocore.__version__} ua/2.0 "
            f"os/{platform.system().lower()} lang/python#{platform.python_version()}")


_ATTRIBUTES = {  # (event, viewing account) -> the values the attribute matches
    "EventId": lambda e, a: (e.event_id,),
    "EventName": lambda e, a: (e.event_name,),
    "ReadOnly": lambda e, a: ("true" if e.read_only else "false",),
    "Username": lambda e, a: (_username(e, a),),
    "ResourceType": lambda e, a: tuple(r["ResourceType"] for r in e.resources),
    "ResourceName": lambda e, a: tuple(r["ResourceName"] for r in e.resources),
    "EventSource": lambda e, a: (e.event_source,),
    "AccessKeyId": lambda e, a: (None if _foreign(e, a) else e.access_key_id,),
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
    return lambda event, account: value in values(event, account)


@api("cloudtrail", "LookupEvents")
def lookup_events(call: Any, lab: Any) -> dict[str, Any]:
    """Management events of the caller's account and region in the last 90 days, newest first."""
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
    caller = call.state.get("caller")
    account = caller.account_id if caller is not None else lab.account_id
    found = []
    for event in trail.newest_first():
        if before is not None and event.seq >= before:
            continue
        if event.time < start:
            break
        if end is not None and event.time > end:
            continue
        if not event.management or event.region != region or account not in recipient_accounts(event):
            continue
        if match is not None and not match(event, account):
            continue
        found.append(event)
        if len(found) > limit:
            break
    body: dict[str, Any] = {"Events": [lookup_event(e, account) for e in found[:limit]]}
    if len(found) > limit:
        body["NextToken"] = _token(found[limit - 1].seq, digest)
    return body
