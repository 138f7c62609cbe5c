"""IAM's usage data answered from the lab's trail: the credential report and service last accessed details."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from labkit.apis import ApiError, api

__all__ = ["credential_report", "service_last_accessed", "allowed_services"]

# "IAM first checks whether a report for the AWS account has been generated within the past four
# hours. If so, the most recent report is downloaded." (id_credentials_getting-report.md)
REPORT_REUSE = timedelta(hours=4)
# "The tracking period for service information is the last 400 days." (access_policies_access-advisor.md)
TRACKING = timedelta(days=400)
# Action last accessed information covers these services' management actions, not iam:PassRole.
TRACKED_SERVICES = ("ec2", "iam", "lambda", "s3")
_UNTRACKED = frozenset({"iam:passrole"})
_S3_DATA_LISTS = frozenset({"listbucket", "listbucketversions", "listbucketmultipartuploads"})

_COLUMNS = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
            "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
            "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
            "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
            "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
            "cert_2_active,cert_2_last_rotated")
_PASSWORD_CHANGES = frozenset({"CreateLoginProfile", "UpdateLoginProfile", "ChangePassword"})
_ENTITY_ARN = re.compile(r"arn:aws:iam::(?P<account>\d{12}):(?P<kind>user|group|role|policy)(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)")


def _iam(lab: Any) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[lab.account_id]["aws"]


def _state(lab: Any) -> dict[str, Any]:
    """labkit's IAM usage state for the lab account; lives on moto's backend, so a reset clears it."""
    return _iam(lab).__dict__.setdefault("labkit_usage", {"report": None, "jobs": {}})


def _now(lab: Any) -> datetime:
    clock = getattr(lab, "clock", None)
    return clock.now() if clock is not None else datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str:
    return _aware(value).strftime("%Y-%m-%dT%H:%M:%S+00:00") if value is not None else "N/A"


# -- credential report ------------------------------------------------------------------------------


def _key_columns(key: Any) -> list[str]:
    if key is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    active = key.status == "Active"
    last = key.last_used
    if last is None:
        used = ["N/A", "N/A", "N/A"]
    else:
        used = [_iso(getattr(last, "timestamp", last)), getattr(last, "region", "N/A"), getattr(last, "service", "N/A")]
    return ["true" if active else "false", _iso(key.create_date) if active else "N/A", *used]


def _password_changes(lab: Any) -> dict[str, datetime]:
    changed: dict[str, datetime] = {}
    trail = getattr(lab, "trail", None)
    for event in trail or ():
        if event.event_name in _PASSWORD_CHANGES and event.service == "iam" and not event.error_code:
            name = event.record.call.params.get("UserName") or event.username
            if name:
                changed[name] = event.time
    return changed


def _admin_key(account_id: str) -> str | None:
    from labkit import identity

    if hasattr(identity, "admin_credentials"):
        return identity.admin_credentials(account_id)[0]
    return getattr(identity, "ADMIN_ACCESS_KEY", None)


def credential_report(lab: Any) -> str:
    """The credential report's CSV for the lab account as it is now (lab time)."""
    iam, trail = _iam(lab), getattr(lab, "trail", None)
    started = trail.started if trail is not None else _now(lab)
    admin_use = trail.key_use(_admin_key(lab.account_id) or "") if trail is not None else None
    root_key = ["true", _iso(started)] + (
        [_iso(admin_use.time), admin_use.region, admin_use.service] if admin_use else ["N/A", "N/A", "N/A"])
    rows = [["<root_account>", f"arn:aws:iam::{lab.account_id}:root", _iso(started), "not_supported", "no_information",
             "not_supported", "not_supported", "false", *root_key, *_key_columns(None), "false", "N/A", "false", "N/A"]]
    policy = getattr(iam, "account_password_policy", None)
    max_age = getattr(policy, "max_password_age", None) or 0
    changes = _password_changes(lab)
    for user in list(iam.users.values()):
        if user.password:
            changed = changes.get(user.name, user.create_date)
            password = ["true", _iso(user.password_last_used) if user.password_last_used else "no_information",
                        _iso(changed), _iso(_aware(changed) + timedelta(days=max_age)) if max_age else "N/A"]
        else:
            password = ["false", "N/A", "N/A", "N/A"]
        keys = (list(user.access_keys) + [None, None])[:2]
        certs = (list(user.signing_certificates.values()) + [None, None])[:2]
        cert_columns = []
        for cert in certs:
            active = cert is not None and cert.status == "Active"
            cert_columns += ["true" if active else "false", _iso(cert.upload_date) if active else "N/A"]
        rows.append([user.name, user.arn, _iso(user.create_date), *password, "true" if user.mfa_devices else "false",
                     *_key_columns(keys[0]), *_key_columns(keys[1]), *cert_columns])
    return "\n".join([_COLUMNS] + [",".join(row) for row in rows]) + "\n"


@api("iam", "GenerateCredentialReport")
def generate_credential_report(call: Any, lab: Any) -> dict[str, Any]:
    state, now = _state(lab), _now(lab)
    report = state["report"]
    if report is not None and now - report[0] < REPORT_REUSE:
        return {"State": "COMPLETE"}
    state["report"] = (now, credential_report(lab))
    return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}


@api("iam", "GetCredentialReport")
def get_credential_report(call: Any, lab: Any) -> dict[str, Any]:
    report = _state(lab)["report"]
    if report is None:
        raise ApiError("ReportNotPresent", "Credential report not present", status=410)
    return {"Content": report[1].encode("utf-8"), "ReportFormat": "text/csv", "GeneratedTime": report[0]}


# -- which services a policy allows --------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _policy(text: str) -> Any:
    from labkit.errors import LabkitError
    from labkit.policy import Policy

    try:
        return Policy.from_json(text)
    except LabkitError:
        return None


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _allows(statements: list[Any], action: str) -> bool:
    lowered = action.lower()
    return any(s.matches_action(lowered) for s in statements)


@lru_cache(maxsize=256)
def _services_of(statement_key: str) -> frozenset[str]:
    """The service prefixes an Allow statement (as ``(element, patterns)`` JSON) grants some action of."""
    from labkit.policy.catalog import action_names, service_exists, service_prefixes, wildcard_regex

    element, patterns = json.loads(statement_key)
    if element == "Action" and "*" in patterns:
        return frozenset(service_prefixes())
    literal = {p.split(":", 1)[0].lower() for p in patterns if ":" in p and not any(c in p.split(":", 1)[0] for c in "*?")}
    if element == "Action" and len(literal) == len(patterns):
        return frozenset(p for p in service_prefixes() if p.lower() in literal and service_exists(p))
    found = set()
    for prefix in service_prefixes():
        if element == "Action":
            rules = [wildcard_regex(p) for p in patterns if ":" in p and wildcard_regex(p.split(":", 1)[0]).fullmatch(prefix)]
            if any(rx.fullmatch(f"{prefix}:{name}") for rx in rules for name in action_names(prefix)):
                found.add(prefix)
        else:  # NotAction: every service with an action the statement does not exclude
            rules = [wildcard_regex(p) for p in patterns if ":" in p and wildcard_regex(p.split(":", 1)[0]).fullmatch(prefix)]
            if not rules or any(not any(rx.fullmatch(f"{prefix}:{name}") for rx in rules) for name in action_names(prefix)):
                found.add(prefix)
    return frozenset(found)


def allowed_services(policies: list[Any]) -> tuple[set[str], list[Any]]:
    """(service prefixes some Allow statement grants, those Allow statements) of compiled policies.

    As last accessed information does, this reads permissions policies only: Deny statements,
    resources and conditions do not take a service off the list.
    """
    services: set[str] = set()
    statements = [s for p in policies for s in p.statements if not s.deny]
    for statement in statements:
        element = "NotAction" if statement.not_action else "Action"
        patterns = statement.raw[element]
        patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        services |= _services_of(json.dumps([element, sorted(patterns)]))
    return services, statements


def _tracked_actions(service: str, statements: list[Any]) -> list[str]:
    from labkit.policy.catalog import action_info, action_names

    names = []
    for name in action_names(service):
        full = f"{service}:{name}".lower()
        if full in _UNTRACKED or not _allows(statements, full):
            continue
        if service == "s3":
            info = action_info(full)
            if name.lower() in _S3_DATA_LISTS or any(r.name == "object" for r in info.resource_types):
                continue  # S3 data events are not tracked
        names.append(name)
    return sorted(names)


# -- service last accessed ------------------------------------------------------------------------------


@dataclass
class _Subject:
    """What a report is about: its policies and the users or roles whose attempts count."""

    kind: str
    policies: list[Any]
    entities: dict[str, Any]  # ARN -> moto user or role
    via_policies: bool  # count only attempts these policies allow (groups and policies)


def _documents(owner: Any) -> list[str]:
    texts = list(owner.policies.values())
    texts += [_text(next(v for v in p.versions if v.is_default).document) for p in owner.managed_policies.values()]
    return texts


def _subject(lab: Any, arn: Any) -> _Subject:
    match = _ENTITY_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None or match["account"] != lab.account_id:
        raise ApiError("InvalidInput", f"ARN {arn} is not valid: name an IAM user, group, role or policy of this account.")
    iam, kind, name = _iam(lab), match["kind"], match["name"]
    if kind == "policy":
        policy = iam.managed_policies.get(arn)
        if policy is None:
            raise ApiError("NoSuchEntity", f"Policy {arn} was not found.", status=404)
        texts = [_text(next(v for v in policy.versions if v.is_default).document)]
        entities = {u.arn: u for u in iam.users.values() if arn in u.managed_policies}
        entities |= {u.arn: u for g in iam.groups.values() if arn in g.managed_policies for u in g.users}
        entities |= {r.arn: r for r in iam.roles.values() if arn in r.managed_policies}
        return _Subject(kind, _compiled(texts), entities, True)
    owner = {"user": iam.users, "group": iam.groups, "role": iam.roles}[kind].get(name)
    if owner is None or owner.arn != arn:
        raise ApiError("NoSuchEntity", f"The {kind} with name {name} cannot be found.", status=404)
    texts = _documents(owner)
    if kind == "user":
        for group in iam.get_groups_for_user(name):
            texts += _documents(group)
    entities = {u.arn: u for u in owner.users} if kind == "group" else {owner.arn: owner}
    return _Subject(kind, _compiled(texts), entities, kind == "group")


def _compiled(texts: list[str]) -> list[Any]:
    return [p for p in (_policy(t) for t in texts) if p is not None]


def _entity_of(event: Any) -> str | None:
    """The IAM user or role ARN an attempt counts for (root and federated users are not IAM entities)."""
    caller = event.record.caller
    if caller is None:
        return None
    if caller.kind in ("user", "user-session"):
        return caller.arn
    if caller.kind == "assumed-role":
        return getattr(caller, "role_arn", None)
    return None


@dataclass
class _Last:
    time: datetime | None = None
    entity: str | None = None
    region: str | None = None
    entities: set[str] = field(default_factory=set)

    def add(self, event: Any, entity: str) -> None:
        self.entities.add(entity)
        if self.time is None:  # newest first: the first attempt seen is the last made
            self.time, self.entity, self.region = event.time, entity, event.region


def service_last_accessed(lab: Any, arn: str, granularity: str = "SERVICE_LEVEL") -> tuple[list[dict[str, Any]], dict]:
    """ServicesLastAccessed for an IAM user, group, role or managed policy ARN, from the trail.

    Counts every authenticated attempt, allowed or denied, in the last 400 days (the API
    reference: "includes all attempts to access an AWS API, not just the successful ones").
    Also returns, per service, each entity's last attempt (for ...WithEntities).
    """
    from labkit.policy.catalog import service_name

    subject = _subject(lab, arn)
    services, statements = allowed_services(subject.policies)
    lower = {s.lower(): s for s in services}
    per_service: dict[str, _Last] = {}
    per_action: dict[str, _Last] = {}
    per_entity: dict[tuple[str, str], datetime] = {}
    trail = getattr(lab, "trail", None)
    since = _now(lab) - TRACKING
    for event in (trail.newest_first() if trail is not None else ()):
        if event.time < since:
            break
        entity = _entity_of(event)
        if entity is None or entity not in subject.entities:
            continue
        service = lower.get(event.service.lower())
        if service is None or (subject.via_policies and not _allows(statements, event.action)):
            continue
        per_service.setdefault(service, _Last()).add(event, entity)
        per_action.setdefault(event.action.lower(), _Last()).add(event, entity)
        per_entity.setdefault((service, entity), event.time)
    result = []
    for service in sorted(services, key=str.lower):
        item: dict[str, Any] = {"ServiceName": service_name(service) or service, "ServiceNamespace": service}
        last = per_service.get(service)
        if last is not None:
            item.update(LastAuthenticated=last.time, LastAuthenticatedEntity=last.entity,
                        LastAuthenticatedRegion=last.region, TotalAuthenticatedEntities=len(last.entities))
        else:
            item["TotalAuthenticatedEntities"] = 0
        if granularity == "ACTION_LEVEL" and service in TRACKED_SERVICES:
            tracked = []
            for name in _tracked_actions(service, statements):
                entry: dict[str, Any] = {"ActionName": name}
                used = per_action.get(f"{service}:{name}".lower())
                if used is not None:
                    entry.update(LastAccessedEntity=used.entity, LastAccessedTime=used.time, LastAccessedRegion=used.region)
                tracked.append(entry)
            item["TrackedActionsLastAccessed"] = tracked
        result.append(item)
    return result, {"subject": subject, "per_entity": per_entity}


def _job(call: Any, lab: Any) -> dict[str, Any]:
    job = _state(lab)["jobs"].get(call.params.get("JobId"))
    caller = call.state.get("caller")
    # "Only the principal that generates a report can view the report details."
    if job is None or job["owner"] != getattr(caller, "arn", None):
        raise ApiError("NoSuchEntity", f"The job with ID {call.params.get('JobId')} cannot be found.", status=404)
    return job


def _page(call: Any, items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    start = int(call.params["Marker"]) if str(call.params.get("Marker", "")).isdigit() else 0
    size = call.params.get("MaxItems") or 100
    page = items[start:start + size]
    more = start + size < len(items)
    return page, ({"IsTruncated": True, "Marker": str(start + size)} if more else {"IsTruncated": False})


@api("iam", "GenerateServiceLastAccessedDetails")
def generate_service_last_accessed_details(call: Any, lab: Any) -> dict[str, Any]:
    granularity = call.params.get("Granularity") or "SERVICE_LEVEL"
    if granularity not in ("SERVICE_LEVEL", "ACTION_LEVEL"):
        raise ApiError("InvalidInput", f"Granularity {granularity!r} is not valid: use SERVICE_LEVEL or ACTION_LEVEL.")
    services, extra = service_last_accessed(lab, call.params.get("Arn"), granularity)
    job_id, now = str(uuid.uuid4()), _now(lab)
    owner = getattr(call.state.get("caller"), "arn", None)
    _state(lab)["jobs"][job_id] = {"owner": owner, "type": granularity, "created": now, "services": services, **extra}
    return {"JobId": job_id}


@api("iam", "GetServiceLastAccessedDetails")
def get_service_last_accessed_details(call: Any, lab: Any) -> dict[str, Any]:
    job = _job(call, lab)
    page, more = _page(call, job["services"])
    return {"JobStatus": "COMPLETED", "JobType": job["type"], "JobCreationDate": job["created"],
            "ServicesLastAccessed": page, "JobCompletionDate": job["created"], **more}


@api("iam", "GetServiceLastAccessedDetailsWithEntities")
def get_service_last_accessed_details_with_entities(call: Any, lab: Any) -> dict[str, Any]:
    job = _job(call, lab)
    namespace = call.params.get("ServiceNamespace")
    entities = []
    for arn, entity in job["subject"].entities.items():
        kind = "ROLE" if ":role/" in arn else "USER"
        info = {"Arn": arn, "Name": entity.name, "Type": kind, "Id": entity.id, "Path": entity.path}
        detail: dict[str, Any] = {"EntityInfo": info}
        when = job["per_entity"].get((namespace, arn))
        if when is not None:
            detail["LastAuthenticated"] = when
        entities.append(detail)
    entities.sort(key=lambda d: d["EntityInfo"]["Name"])
    page, more = _page(call, entities)
    return {"JobStatus": "COMPLETED", "JobCreationDate": job["created"], "JobCompletionDate": job["created"],
            "EntityDetailsList": page, **more}
