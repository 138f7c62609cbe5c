"""The lab's trail: every API call made in a lab, recorded cheaply and shown the way CloudTrail shows it."""

from __future__ import annotations

import html
import itertools
import json
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = ["Trail", "TrailEvent", "KeyUse", "HIDDEN"]

#: What CloudTrail writes in place of a secret request parameter.
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

# IAM's key last used data: "When an access key is used more than once in a 15-minute span, only
# the first use is recorded" (id_credentials_getting-report.md).
_KEY_USE_SPAN = timedelta(minutes=15)
# "The last used service is not Region-specific, such as Amazon S3": the region is then N/A.
_NO_REGION = frozenset({"s3"})
# Global services: CloudTrail records them in us-east-1 whatever endpoint was called.
_GLOBAL = frozenset({"iam"})

# botocore service name -> IAM service prefix (namespace), where they differ.
_NAMESPACE = {"monitoring": "cloudwatch", "stepfunctions": "states", "elbv2": "elasticloadbalancing",
              "elb": "elasticloadbalancing", "sesv2": "ses", "s3control": "s3", "apigatewayv2": "apigateway",
              "opensearch": "es"}
# botocore service name -> the host in CloudTrail's eventSource, where they differ.
_SOURCE = {"stepfunctions": "states", "elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing",
           "sesv2": "ses", "s3control": "s3", "apigatewayv2": "apigateway", "opensearch": "es"}

# Data events (CloudTrail's Event history keeps management events only).
_DATA_OPERATIONS = {
    "lambda": frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"}),
    "dynamodb": frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem", "Query",
                           "Scan", "TransactGetItems", "TransactWriteItems", "ExecuteStatement",
                           "BatchExecuteStatement", "ExecuteTransaction"}),
}
_S3_DATA_WORDS = ("Object", "Multipart", "UploadPart", "ListParts")
_READ_VERBS = ("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Query", "Scan", "Search", "Select")
_SECRET_NAMES = frozenset({"sessiontoken", "privatekey", "samlassertion", "webidentitytoken", "tokencode"})


class KeyUse(NamedTuple):
    """When, with which service (namespace) and in which region an access key was last used."""

    time: datetime
    service: str
    region: str


def namespace_of(service: str) -> str:
    """The IAM service prefix (``s3``, ``cloudwatch``) of a botocore service name."""
    return _NAMESPACE.get(service, service)


class TrailEvent:
    """One recorded call. Its CloudTrail shapes are built only when asked for."""

    __slots__ = ("seq", "record", "_salt")

    def __init__(self, seq: int, record: Any, salt: int) -> None:
        self.seq = seq
        self.record = record
        self._salt = salt

    # -- facts --------------------------------------------------------------------------------

    @property
    def time(self) -> datetime:
        return self.record.time

    @property
    def event_name(self) -> str:
        return self.record.call.operation

    @property
    def service(self) -> str:
        """The IAM service prefix the call went to (``iam``, ``s3``...)."""
        action = self.record.action
        return action.split(":", 1)[0] if action else namespace_of(self.record.call.service)

    @property
    def action(self) -> str:
        """The IAM action the call needed (``iam:ListUsers``)."""
        return self.record.action or f"{self.service}:{self.event_name}"

    @property
    def event_source(self) -> str:
        service = self.record.call.service
        return f"{_SOURCE.get(service, service)}.amazonaws.com"

    @property
    def region(self) -> str:
        """The region CloudTrail records the event in (us-east-1 for IAM, a global service)."""
        return "us-east-1" if self.service in _GLOBAL else (self.record.call.region or "us-east-1")

    @property
    def access_key_id(self) -> str | None:
        return self.record.call.access_key

    @property
    def source_ip(self) -> str:
        return getattr(self.record, "source_ip", None) or "127.0.0.1"

    @property
    def decision(self) -> str:
        return self.record.decision

    @property
    def error_code(self) -> str | None:
        return self.record.error_code

    @property
    def error_message(self) -> str | None:
        return self.record.error_message

    @property
    def authenticated(self) -> bool:
        return self.record.caller is not None

    @property
    def principal_arn(self) -> str | None:
        caller = self.record.caller
        return caller.arn if caller is not None else None

    @property
    def username(self) -> str | None:
        """Event history's "User name": the user, "root", or the role session's name."""
        caller = self.record.caller
        if caller is None:
            return None
        if caller.kind == "admin":
            return "root"
        return getattr(caller, "user_name", None) if caller.kind == "user-session" else caller.name

    @property
    def read_only(self) -> bool:
        return _read_only(self.action, self.event_name)

    @property
    def management(self) -> bool:
        """False for data events (S3 object calls, Lambda Invoke, DynamoDB items)."""
        service, operation = self.record.call.service, self.event_name
        if service == "s3":
            return not any(word in operation for word in _S3_DATA_WORDS)
        return operation not in _DATA_OPERATIONS.get(service, ())

    @property
    def event_id(self) -> str:
        return str(uuid.UUID(int=(self._salt + self.seq) % (1 << 128), version=4))

    @property
    def request_id(self) -> str:
        return str(uuid.UUID(int=(self._salt * 7 + self.seq) % (1 << 128), version=4))

    @property
    def resources(self) -> list[dict[str, str]]:
        """CloudTrail's Resources: what the request named, as ``{"ResourceType", "ResourceName"}``."""
        params = self.record.call.params
        found = []
        for param, kind in _RESOURCE_PARAMS.get(self.record.call.service, ()):
            value = params.get(param)
            if isinstance(value, str) and value:
                found.append({"ResourceType": kind, "ResourceName": value})
        return found

    # -- AWS shapes -----------------------------------------------------------------------------

    def to_cloudtrail(self) -> dict[str, Any]:
        """The event as CloudTrail writes it (the ``CloudTrailEvent`` JSON, as a dict)."""
        record = self.record
        event: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": _user_identity(record.caller, self.access_key_id),
            "eventTime": self.time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "awsRegion": self.region,
            "sourceIPAddress": self.source_ip,
            "userAgent": getattr(record.call, "user_agent", None) or _user_agent(),
        }
        if record.error_code:
            event["errorCode"] = record.error_code
            event["errorMessage"] = record.error_message or ""
        event["requestParameters"] = request_parameters(record.call.service, record.call.params)
        event["responseElements"] = None
        event["requestID"] = self.request_id
        event["eventID"] = self.event_id
        event["readOnly"] = self.read_only
        if self.resources:
            account = record.caller.account_id if record.caller is not None else None
            event["resources"] = [{"accountId": account, "type": r["ResourceType"], "ARN": r["ResourceName"]}
                                  for r in self.resources]
        event["eventType"] = "AwsApiCall"
        event["managementEvent"] = self.management
        event["recipientAccountId"] = record.caller.account_id if record.caller is not None else None
        event["eventCategory"] = "Management" if self.management else "Data"
        return event

    def to_lookup(self) -> dict[str, Any]:
        """The event as ``cloudtrail.lookup_events`` returns it."""
        shape: dict[str, Any] = {
            "EventId": self.event_id,
            "EventName": self.event_name,
            "ReadOnly": "true" if self.read_only else "false",
        }
        if self.access_key_id:
            shape["AccessKeyId"] = self.access_key_id
        shape["EventTime"] = self.time
        shape["EventSource"] = self.event_source
        if self.username:
            shape["Username"] = self.username
        shape["Resources"] = self.resources
        shape["CloudTrailEvent"] = json.dumps(self.to_cloudtrail())
        return shape

    def __repr__(self) -> str:
        outcome = self.error_code or "OK"
        who = self.username or "(unauthenticated)"
        return f"<TrailEvent {self.time:%Y-%m-%d %H:%M:%S} {who} {self.event_source}:{self.event_name} {outcome}>"


class Trail:
    """Every API call made in a running lab, newest last, up to ``maxlen`` calls.

    The lab's gate hands each call's :class:`~labkit.gate.CallRecord` to :meth:`record`. The
    trail keeps it as it is (recording runs on every call) and builds CloudTrail's shapes when
    someone reads them. It also keeps IAM's access key last used data: see :meth:`key_use`.
    """

    def __init__(self, *, maxlen: int = 50_000, clock: Any = None) -> None:
        self.maxlen = maxlen
        self._clock = clock
        self._events: deque[TrailEvent] = deque(maxlen=maxlen)
        self._seq = itertools.count(1)
        self._salt = secrets.randbits(128)
        self._key_use: dict[str, KeyUse] = {}
        self.started = self.now()

    def now(self) -> datetime:
        """The lab time (the clock's, if the trail has one)."""
        return self._clock.now() if self._clock is not None else datetime.now(timezone.utc)

    def record(self, record: Any) -> None:
        """Keep one call (a gate listener)."""
        event = TrailEvent(next(self._seq), record, self._salt)
        self._events.append(event)
        caller = record.caller
        if caller is not None and caller.kind in ("user", "admin"):
            self._note_key_use(event, caller)

    def clear(self) -> None:
        """Forget every call and key use (``lab.reset()`` does this)."""
        self._events.clear()
        self._key_use.clear()
        self.started = self.now()

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[TrailEvent]:
        """Oldest first."""
        return iter(list(self._events))

    def newest_first(self) -> Iterator[TrailEvent]:
        return reversed(list(self._events))

    def events(self, *, username: str | None = None, event_name: str | None = None, service: str | None = None,
               decision: str | None = None, failed: bool | None = None, since: datetime | None = None,
               where: Callable[[TrailEvent], bool] | None = None) -> list[TrailEvent]:
        """The recorded calls that match every filter given, newest first."""
        found = []
        for event in self.newest_first():
            if since is not None and event.time < since:
                break
            if username is not None and event.username != username:
                continue
            if event_name is not None and event.event_name != event_name:
                continue
            if service is not None and event.service != service:
                continue
            if decision is not None and event.decision != decision:
                continue
            if failed is not None and bool(event.error_code) != failed:
                continue
            if where is not None and not where(event):
                continue
            found.append(event)
        return found

    # -- access key last used -----------------------------------------------------------------------

    def key_use(self, access_key_id: str) -> KeyUse | None:
        """IAM's last used data for a long-term access key (users' and the lab administrator's)."""
        return self._key_use.get(access_key_id)

    def _note_key_use(self, event: TrailEvent, caller: Any) -> None:
        # IAM records last use for every request the key signs and AWS authenticates, allowed or
        # denied; the first use in a 15-minute span is the one kept.
        key_id = event.access_key_id
        if not key_id:
            return
        previous = self._key_use.get(key_id)
        if previous is not None and event.time - previous.time < _KEY_USE_SPAN:
            return
        service = event.service
        use = KeyUse(event.time, service, "N/A" if service in _NO_REGION else event.region)
        self._key_use[key_id] = use
        if caller.kind == "user":
            _set_moto_last_used(caller, key_id, use)

    # -- display ----------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Trail: {len(self)} calls since {self.started:%Y-%m-%d %H:%M:%S} UTC>"

    def _repr_html_(self, limit: int = 20) -> str:
        rows = []
        for event in itertools.islice(self.newest_first(), limit):
            outcome = event.error_code or "OK"
            cells = (f"{event.time:%Y-%m-%d %H:%M:%S}", event.username or "(unauthenticated)",
                     f"{event.service}:{event.event_name}", outcome, event.source_ip)
            rows.append("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th style='text-align:left'>{h}</th>" for h in ("Time (UTC)", "User", "Call", "Outcome", "Source IP"))
        more = f"<p>{len(self) - limit} earlier calls not shown.</p>" if len(self) > limit else ""
        return f"<div><b>Trail: {len(self)} calls</b><table><tr>{head}</tr>{''.join(rows)}</table>{more}</div>"


# -- helpers ----------------------------------------------------------------------------------------

_RESOURCE_PARAMS: dict[str, tuple[tuple[str, str], ...]] = {
    "iam": (("UserName", "AWS::IAM::User"), ("GroupName", "AWS::IAM::Group"), ("RoleName", "AWS::IAM::Role"),
            ("PolicyArn", "AWS::IAM::Policy"), ("AccessKeyId", "AWS::IAM::AccessKey"),
            ("InstanceProfileName", "AWS::IAM::InstanceProfile")),
    "s3": (("Bucket", "AWS::S3::Bucket"), ("Key", "AWS::S3::Object")),
    "sts": (("RoleArn", "AWS::IAM::Role"),),
}


def _read_only(action: str, operation: str) -> bool:
    from labkit.policy.catalog import action_info

    info = action_info(action)
    if info is not None and info.access_level:
        return info.access_level in ("Read", "List")
    return operation.startswith(_READ_VERBS)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _secret(name: str) -> bool:
    lowered = name.lower()
    return "password" in lowered or "secret" in lowered or lowered in _SECRET_NAMES


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {_camel(str(k)): HIDDEN if _secret(str(k)) else _jsonable(v) for k, v in value.items() if not _opaque(v)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value if not _opaque(v)]
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _opaque(value: Any) -> bool:
    """Payloads CloudTrail does not record: bytes and streams (an S3 object's body)."""
    return isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "read")


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


def _set_moto_last_used(caller: Any, key_id: str, use: KeyUse) -> None:
    """Hand IAM's key last used data to moto, which answers GetAccessKeyLastUsed from it."""
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    user = iam_backends[caller.account_id]["aws"].users.get(getattr(caller, "user_name", None) or caller.name)
    for key in getattr(user, "access_keys", ()):
        if key.access_key_id == key_id:
            # moto keeps naive UTC datetimes.
            stamp = use.time.astimezone(timezone.utc).replace(tzinfo=None)
            key.last_used = AccessKeyLastUsed(timestamp=stamp, service=use.service, region=use.region)
