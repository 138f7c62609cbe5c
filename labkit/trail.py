"""The lab's trail: every API call made in a lab, recorded cheaply and shown the way CloudTrail shows it."""

from __future__ import annotations

import dataclasses
import html
import itertools
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

__all__ = ["Trail", "TrailEvent", "EventFacts", "KeyUse", "namespace_of", "is_payload", "select"]

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

    # -- AWS shapes (built in labkit.apis.cloudtrail) ----------------------------------------------

    def to_cloudtrail(self) -> dict[str, Any]:
        """The event as CloudTrail writes it (the ``CloudTrailEvent`` JSON, as a dict)."""
        from labkit.apis.cloudtrail import cloudtrail_event

        return cloudtrail_event(self)

    def to_lookup(self) -> dict[str, Any]:
        """The event as ``cloudtrail.lookup_events`` returns it."""
        from labkit.apis.cloudtrail import lookup_event

        return lookup_event(self)

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
        self._moto_use: dict[str, tuple[Any, Any]] = {}  # key id -> (moto's AccessKey, the last used kept there)
        self._roles: dict[str, Any] = {}  # role ARN -> moto's role
        self.started = self.now()

    def now(self) -> datetime:
        """The lab time (the clock's, if the trail has one)."""
        return self._clock.now() if self._clock is not None else datetime.now(timezone.utc)

    def record(self, record: Any) -> None:
        """Keep one call (a gate listener)."""
        params = record.call.params
        for value in params.values():
            if is_payload(value):  # memory stays bounded: a payload (an S3 object's body) is not kept
                kept = {k: v for k, v in params.items() if not is_payload(v)}
                record = dataclasses.replace(record, call=dataclasses.replace(record.call, params=kept))
                break
        event = TrailEvent(next(self._seq), record, self._salt)
        self._events.append(event)
        caller = record.caller
        if caller is not None and caller.kind in ("user", "admin"):
            self._note_key_use(event, caller)
        elif caller is not None and caller.kind == "assumed-role":
            self._note_role_use(event, caller)

    def clear(self) -> None:
        """Forget every call and key use (``lab.reset()`` does this)."""
        self._events.clear()
        self._key_use.clear()
        self._moto_use.clear()
        self._roles.clear()
        self.started = self.now()

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[TrailEvent]:
        """Oldest first."""
        return iter(list(self._events))

    def newest_first(self) -> Iterator[TrailEvent]:
        return reversed(list(self._events))

    def events(self, **filters: Any) -> list[TrailEvent]:
        """The recorded calls that match every filter given, newest first (see :func:`select`)."""
        return select(self.newest_first(), **filters)

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
        use = self._key_use.get(key_id)
        if use is None or event.time - use.time >= _KEY_USE_SPAN:
            service = event.service
            use = KeyUse(event.time, service, "N/A" if service in _NO_REGION else event.region)
            self._key_use[key_id] = use
            if caller.kind == "user":
                self._moto_use[key_id] = (_moto_key(caller, key_id), _moto_last_used(use))
        if caller.kind == "user":
            # moto writes its own last used data on the calls it serves: put IAM's back.
            key, last_used = self._moto_use.get(key_id, (None, None))
            if key is not None and key.last_used is not last_used:
                key.last_used = last_used

    def _note_role_use(self, event: TrailEvent, caller: Any) -> None:
        # IAM's RoleLastUsed (iam.get_role): when and where a session of the role last made a request.
        role_arn = getattr(caller, "role_arn", None)
        role = self._roles.get(role_arn) if role_arn else None
        if role is None and role_arn:
            from moto.iam.models import iam_backends

            roles = iam_backends[caller.account_id]["aws"].roles.values()
            role = self._roles[role_arn] = next((r for r in roles if r.arn == role_arn), None)
        if role is not None:
            role.last_used = event.time.astimezone(timezone.utc).replace(tzinfo=None)
            role.last_used_region = event.region

    # -- display ----------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<Trail: {len(self)} calls since {self.started:%Y-%m-%d %H:%M:%S} UTC>"

    def _repr_html_(self, limit: int = 20) -> str:
        return trail_html(list(itertools.islice(self.newest_first(), limit)), len(self))


def trail_html(newest: list[Any], total: int) -> str:
    """The trail as a table: ``newest`` events first, of ``total`` recorded."""
    rows = []
    for event in newest:
        outcome = event.error_code or "OK"
        cells = (f"{event.time:%Y-%m-%d %H:%M:%S}", event.username or "(unauthenticated)",
                 f"{event.service}:{event.event_name}", outcome, event.source_ip)
        rows.append("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in ("Time (UTC)", "User", "Call", "Outcome", "Source IP"))
    more = f"<p>{total - len(newest)} earlier calls not shown.</p>" if total > len(newest) else ""
    return f"<div><b>Trail: {total} calls</b><table><tr>{head}</tr>{''.join(rows)}</table>{more}</div>"


# -- helpers ----------------------------------------------------------------------------------------


_FACTS = ("time", "event_name", "service", "action", "event_source", "region", "access_key_id", "source_ip",
          "decision", "error_code", "error_message", "authenticated", "principal_arn", "username", "read_only",
          "management", "event_id", "request_id", "resources")


@dataclasses.dataclass(frozen=True)
class EventFacts:
    """A recorded call's facts as plain data: what a trail read from a lab server holds."""

    time: datetime
    event_name: str
    service: str
    action: str
    event_source: str
    region: str
    access_key_id: str | None
    source_ip: str
    decision: str
    error_code: str | None
    error_message: str | None
    authenticated: bool
    principal_arn: str | None
    username: str | None
    read_only: bool
    management: bool
    event_id: str
    request_id: str
    resources: list[dict[str, str]]
    cloudtrail: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, event: TrailEvent) -> EventFacts:
        return cls(**{name: getattr(event, name) for name in _FACTS}, cloudtrail=event.to_cloudtrail())

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["time"] = self.time.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventFacts:
        return cls(**{**data, "time": datetime.fromisoformat(data["time"])})

    def to_cloudtrail(self) -> dict[str, Any]:
        return self.cloudtrail


def select(events: Any, *, username: str | None = None, event_name: str | None = None, service: str | None = None,
           decision: str | None = None, failed: bool | None = None, since: datetime | None = None,
           where: Callable[[Any], bool] | None = None) -> list[Any]:
    """The events (newest first) that match every filter given, newest first."""
    found = []
    for event in events:
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


def is_payload(value: Any) -> bool:
    """Payloads CloudTrail does not record: bytes and streams (an S3 object's body)."""
    return isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "read")


def _moto_key(caller: Any, key_id: str) -> Any | None:
    from moto.iam.models import iam_backends

    user = iam_backends[caller.account_id]["aws"].users.get(getattr(caller, "user_name", None) or caller.name)
    return next((k for k in getattr(user, "access_keys", ()) if k.access_key_id == key_id), None)


def _moto_last_used(use: KeyUse) -> Any:
    """IAM's key last used data in moto's shape (naive UTC), which GetAccessKeyLastUsed answers from."""
    from moto.iam.models import AccessKeyLastUsed

    stamp = use.time.astimezone(timezone.utc).replace(tzinfo=None)
    return AccessKeyLastUsed(timestamp=stamp, service=use.service, region=use.region)
