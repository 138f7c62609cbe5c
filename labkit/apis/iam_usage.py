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

_KEY_COLUMNS = ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
_COLUMNS = ",".join(["user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
                     "password_next_rotation,mfa_active", *(f"access_key_{n}_{c}" for n in (1, 2) for c in _KEY_COLUMNS),
                     "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"])
_PASSWORD_CHANGES = frozenset({"CreateLoginProfile", "UpdateLoginProfile", "ChangePassword"})
_ENTITY_ARN = re.compile(r"arn:aws:iam::(?P<account>\d{12}|aws):(?P<kind>user|group|role|policy)(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)")


def _iam(account_id: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["aws"]


def _account(call: Any, lab: Any) -> str:
    """The account the caller is in: IAM answers with that account's data."""
    return getattr(call.state.get("caller"), "account_id", None) or lab.account_id


def _state(account_id: str) -> dict[str, Any]:
    """labkit's IAM usage state for an account; lives on moto's backend, so a reset clears it."""
    return _iam(account_id).__dict__.setdefault("labkit_usage", {"report": None, "jobs": {}})


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
    last = key.last_used  # moto's AccessKeyLastUsed (a datetime, if someone set one by hand)
    used = (["N/A"] * 3 if last is None else
            [_iso(getattr(last, "timestamp", last)), getattr(last, "region", "N/A"), getattr(last, "service", "N/A")])
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


def credential_report(lab: Any, account_id: str | None = None) -> str:
    """The credential report's CSV for a lab account (the lab's, by default) as it is now, in lab time."""
    from labkit.identity import admin_credentials

    account_id = account_id or lab.account_id
    iam, trail = _iam(account_id), getattr(lab, "trail", None)
    started = trail.started if trail is not None else _now(lab)
    admin_use = trail.key_use(admin_credentials(account_id)[0]) if trail is not None else None
    root_key = ["true", _iso(started)] + (
        [_iso(admin_use.time), admin_use.region, admin_use.service] if admin_use else ["N/A", "N/A", "N/A"])
    rows = [["<root_account>", f"arn:aws:iam::{account_id}:root", _iso(started), "not_supported", "no_information",
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
    account = _account(call, lab)
    state, now = _state(account), _now(lab)
    report = state["report"]
    if report is not None and now - report[0] < REPORT_REUSE:
        return {"State": "COMPLETE"}
    state["report"] = (now, credential_report(lab, account))
    return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}


@api("iam", "GetCredentialReport")
def get_credential_report(call: Any, lab: Any) -> dict[str, Any]:
    report = _state(_account(call, lab))["report"]
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


def _default_document(policy: Any) -> str:
    document = next(v for v in policy.versions if v.is_default).document
    return document if isinstance(document, str) else json.dumps(document)


def _allows(statements: list[Any], action: str) -> bool:
    lowered = action.lower()
    return any(s.matches_action(lowered) for s in statements)


@lru_cache(maxsize=256)
def _services_of(statement_key: str) -> frozenset[str]:
    """The service prefixes an Allow statement (as ``[element, patterns]`` JSON) grants some action of."""
    from labkit.policy.catalog import action_names, service_prefixes, wildcard_regex

    element, patterns = json.loads(statement_key)
    prefixes = service_prefixes()
    by_lower = {p.lower(): p for p in prefixes}
    rules: dict[str, list[str]] = {}  # service -> action name patterns
    for pattern in patterns:
        service, _, name = ("*:*" if pattern == "*" else pattern).partition(":")
        if any(c in service for c in "*?"):
            targets = [p for p in prefixes if wildcard_regex(service).fullmatch(p)]
        else:
            targets = [by_lower[service.lower()]] if service.lower() in by_lower else []
        for target in targets:
            rules.setdefault(target, []).append(name)
    if element == "Action":
        return frozenset(rules)  # a pattern naming a service grants it
    # NotAction: every service with an action the statement does not exclude.
    def excludes_all(service: str) -> bool:
        names = rules[service]
        if "*" in names:
            return True
        regexes = [wildcard_regex(n) for n in names]
        return all(any(rx.fullmatch(a) for rx in regexes) for a in action_names(service))

    return frozenset(p for p in prefixes if p not in rules or not excludes_all(p))


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
        if service == "s3" and (name.lower() in _S3_DATA_LISTS or
                                any(r.name == "object" for r in action_info(full).resource_types)):
            continue  # S3 data events are not tracked
        names.append(name)
    return sorted(names)


# -- service last accessed ------------------------------------------------------------------------------


@dataclass
class _Subject:
    """What a report is about: its policies and the users or roles whose attempts count."""

    policies: list[Any]
    entities: dict[str, Any]  # ARN -> moto user or role
    via_policies: bool  # count only attempts these policies allow (groups and policies)


def _documents(owner: Any) -> list[str]:
    return list(owner.policies.values()) + [_default_document(p) for p in owner.managed_policies.values()]


def _subject(account_id: str, arn: Any) -> _Subject:
    match = _ENTITY_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None or match["account"] not in (account_id, "aws" if match["kind"] == "policy" else None):
        raise ApiError("InvalidInput", f"ARN {arn} is not valid: name an IAM user, group, role or policy of this account.")
    iam, kind, name = _iam(account_id), match["kind"], match["name"]
    if kind == "policy":
        policy = iam.managed_policies.get(arn)
        if policy is None:
            raise ApiError("NoSuchEntity", f"Policy {arn} was not found.", status=404)
        texts = [_default_document(policy)]
        entities = {u.arn: u for u in iam.users.values() if arn in u.managed_policies}
        entities |= {u.arn: u for g in iam.groups.values() if arn in g.managed_policies for u in g.users}
        entities |= {r.arn: r for r in iam.roles.values() if arn in r.managed_policies}
        return _Subject(_compiled(texts), entities, True)
    owners = {"user": iam.users, "group": iam.groups, "role": iam.roles}[kind]  # moto keys roles by id
    owner = next((o for o in owners.values() if o.name == name), None)
    if owner is None or owner.arn != arn:
        raise ApiError("NoSuchEntity", f"The {kind} with name {name} cannot be found.", status=404)
    texts = _documents(owner)
    if kind == "user":
        for group in iam.get_groups_for_user(name):
            texts += _documents(group)
    entities = {u.arn: u for u in owner.users} if kind == "group" else {owner.arn: owner}
    return _Subject(_compiled(texts), entities, kind == "group")


def _compiled(texts: list[str]) -> list[Any]:
    return [p for p in map(_policy, texts) if p is not None]


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


def service_last_accessed(lab: Any, arn: str, granularity: str = "SERVICE_LEVEL", *,
                          account_id: str | None = None) -> tuple[list[dict[str, Any]], dict]:
    """ServicesLastAccessed for an IAM user, group, role or managed policy ARN, from the trail.

    Counts every authenticated attempt, allowed or denied, of the last 400 days: the data "includes
    all attempts to access an AWS API, not just the successful ones" (API reference). Also returns
    each entity's last attempt per service, for ...WithEntities.
    """
    from labkit.policy.catalog import service_name

    subject = _subject(account_id or lab.account_id, arn)
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
    job = _state(_account(call, lab))["jobs"].get(call.params.get("JobId"))
    caller = call.state.get("caller")
    # "Only the principal that generates a report can view the report details."
    if job is None or job["owner"] != getattr(caller, "arn", None):
        raise ApiError("NoSuchEntity", f"The job with ID {call.params.get('JobId')} cannot be found.", status=404)
    return job


def _page(call: Any, items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    start = int(call.params["Marker"]) if str(call.params.get("Marker", "")).isdigit() else 0
    size = call.params.get("MaxItems") or 100
    more = start + size < len(items)
    return items[start:start + size], ({"IsTruncated": True, "Marker": str(start + size)} if more else {"IsTruncated": False})


@api("iam", "GenerateServiceLastAccessedDetails")
def generate_service_last_accessed_details(call: Any, lab: Any) -> dict[str, Any]:
    granularity = call.params.get("Granularity") or "SERVICE_LEVEL"
    if granularity not in ("SERVICE_LEVEL", "ACTION_LEVEL"):
        raise ApiError("InvalidInput", f"Granularity {granularity!r} is not valid: use SERVICE_LEVEL or ACTION_LEVEL.")
    account = _account(call, lab)
    services, extra = service_last_accessed(lab, call.params.get("Arn"), granularity, account_id=account)
    job_id, now = str(uuid.uuid4()), _now(lab)
    owner = getattr(call.state.get("caller"), "arn", None)
    _state(account)["jobs"][job_id] = {"owner": owner, "type": granularity, "created": now, "services": services, **extra}
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
        detail: dict[str, Any] = {"EntityInfo": {"Arn": arn, "Name": entity.name, "Type": kind, "Id": entity.id,
                                                 "Path": entity.path}}
        when = job["per_entity"].get((namespace, arn))
        if when is not None:
            detail["LastAuthenticated"] = when
        entities.append(detail)
    entities.sort(key=lambda d: d["EntityInfo"]["Name"])
    page, more = _page(call, entities)
    return {"JobStatus": "COMPLETED", "JobCreationDate": job["created"], "JobCompletionDate": job["created"],
            "EntityDetailsList": page, **more}
