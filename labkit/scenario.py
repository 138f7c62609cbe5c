"""Scenarios: the company a Lab is seeded with, read from a YAML (or JSON) file and checked first.

A scenario is data, so an instructor can write their own. Everything is validated before the
lab touches it, and a problem is reported with the entry it is in (``users[2] 'bob'``) and what
is wrong with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from labkit.errors import MalformedPolicyDocument, ScenarioError

__all__ = [
    "Scenario",
    "Account",
    "Organization",
    "OrganizationalUnit",
    "User",
    "Group",
    "Role",
    "CustomerPolicy",
    "InlinePolicy",
    "Bucket",
    "load_scenario",
    "builtin_scenarios",
]

_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class InlinePolicy:
    name: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class CustomerPolicy:
    name: str
    document: Mapping[str, Any]
    description: str = ""
    path: str = "/"


@dataclass(frozen=True)
class Group:
    name: str
    managed_policies: tuple[str, ...] = ()
    inline_policies: tuple[InlinePolicy, ...] = ()
    path: str = "/"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    managed_policies: tuple[str, ...] = ()
    inline_policies: tuple[InlinePolicy, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    path: str = "/"


@dataclass(frozen=True)
class Role:
    name: str
    trust_policy: Mapping[str, Any]
    description: str = ""
    managed_policies: tuple[str, ...] = ()
    inline_policies: tuple[InlinePolicy, ...] = ()
    instance_profile: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    path: str = "/"


@dataclass(frozen=True)
class Bucket:
    name: str
    objects: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Account:
    """One AWS account of a scenario and what it holds."""

    name: str
    account_id: str
    policies: tuple[CustomerPolicy, ...] = ()
    groups: tuple[Group, ...] = ()
    users: tuple[User, ...] = ()
    roles: tuple[Role, ...] = ()
    buckets: tuple[Bucket, ...] = ()


@dataclass(frozen=True)
class OrganizationalUnit:
    name: str
    accounts: tuple[str, ...] = ()  # account names
    scps: tuple[CustomerPolicy, ...] = ()
    rcps: tuple[CustomerPolicy, ...] = ()


@dataclass(frozen=True)
class Organization:
    """An AWS Organization: the management account, OUs under the root, SCPs and RCPs."""

    management_account: str  # account name
    units: tuple[OrganizationalUnit, ...] = ()
    scps: tuple[CustomerPolicy, ...] = ()  # attached to the root
    rcps: tuple[CustomerPolicy, ...] = ()


_ENTITY_FIELDS = {"policies", "groups", "users", "roles", "buckets"}


@dataclass(frozen=True)
class Scenario:
    """A company to seed a lab account with. Build one with :func:`load_scenario`."""

    name: str
    company: str
    description: str = ""
    account_id: str = "123456789012"
    region: str = "us-east-1"
    conventions: Mapping[str, str] = field(default_factory=dict)
    policies: tuple[CustomerPolicy, ...] = ()
    groups: tuple[Group, ...] = ()
    users: tuple[User, ...] = ()
    roles: tuple[Role, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    accounts: tuple[Account, ...] = ()  # accounts beside the company's
    organization: Organization | None = None
    source: str = ""

    @property
    def main(self) -> Account:
        """The company's own account."""
        return Account(self.name, self.account_id, self.policies, self.groups, self.users, self.roles, self.buckets)

    def all_accounts(self) -> tuple[Account, ...]:
        return (self.main, *self.accounts)

    def account_named(self, name: str) -> Account:
        for account in self.all_accounts():
            if name in (account.name, account.account_id):
                return account
        names = ", ".join(a.name for a in self.all_accounts())
        raise ScenarioError(f"no account named {name!r}; accounts are: {names}")

    def policy_arn(self, ref: str, account: Account | None = None) -> str:
        """The ARN a scenario's policy reference stands for (AWS managed, customer, or an ARN)."""
        if ref.startswith("arn:"):
            return ref
        account = account or self.main
        for policy in account.policies:
            if policy.name == ref:
                return f"arn:aws:iam::{account.account_id}:policy{policy.path}{policy.name}"
        from labkit.mockaws import aws_managed_policy_data

        data = aws_managed_policy_data(ref)
        path = (data or {}).get("Path") or "/"
        return f"arn:aws:iam::aws:policy{path}{ref}"


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with labkit."""
    folder = resources.files("labkit") / "scenarios"
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(source: str | Path | Mapping[str, Any] = "acme") -> Scenario:
    """Read and validate a scenario: a built-in name, a path to a YAML/JSON file, or a mapping."""
    if isinstance(source, Mapping):
        return _Reader("<mapping>").scenario(source)
    path = Path(source)
    if not path.suffix and not path.exists():
        builtin = resources.files("labkit") / "scenarios" / f"{source}.yaml"
        if not builtin.is_file():
            raise ScenarioError(
                f"no scenario named {str(source)!r}. Built-in scenarios: "
                f"{', '.join(builtin_scenarios())}; or pass the path of a .yaml or .json file."
            )
        return _Reader(f"{source}.yaml").scenario(_parse(builtin.read_text("utf-8"), f"{source}.yaml"))
    if not path.is_file():
        raise ScenarioError(f"scenario file {str(path)!r} does not exist")
    return _Reader(path.name).scenario(_parse(path.read_text("utf-8"), path.name))


def _parse(text: str, source: str) -> Any:
    if source.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise ScenarioError(f"not valid JSON: {err}", source=source) from None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        raise ScenarioError(f"not valid YAML: {err}", source=source) from None


class _Reader:
    """Turns parsed YAML into a :class:`Scenario`, refusing anything malformed."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, entry: str | None, problem: str) -> ScenarioError:
        return ScenarioError(problem, entry=entry, source=self.source)

    def fields(self, raw: Any, entry: str, *, required: set[str], optional: set[str]) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise self.fail(entry, f"expected a mapping of fields, got {type(raw).__name__}")
        unknown = set(raw) - required - optional
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            raise self.fail(entry, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}; expected: {allowed}")
        missing = required - set(raw)
        if missing:
            raise self.fail(entry, f"missing field(s) {', '.join(sorted(missing))}")
        return dict(raw)

    def items(self, raw: Any, entry: str) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.fail(entry, f"expected a list, got {type(raw).__name__}")
        return raw

    def name(self, raw: Any, entry: str, pattern: re.Pattern[str] = _NAME) -> str:
        if not isinstance(raw, str) or not pattern.match(raw):
            raise self.fail(entry, f"invalid name {raw!r}")
        return raw

    def strings(self, raw: Any, entry: str) -> tuple[str, ...]:
        values = self.items(raw, entry)
        if not all(isinstance(v, str) for v in values):
            raise self.fail(entry, "expected a list of strings")
        return tuple(values)

    def tags(self, raw: Any, entry: str) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
            raise self.fail(entry, "tags must be a mapping of tag keys to values")
        return {k: str(v) for k, v in raw.items()}

    def document(self, raw: Any, entry: str) -> dict[str, Any]:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as err:
                raise self.fail(entry, f"policy document is not valid JSON: {err}") from None
        from labkit.policy import Policy

        try:
            Policy.from_dict(raw)
        except MalformedPolicyDocument as err:
            raise self.fail(entry, f"bad policy document: {err.message}") from None
        return dict(raw)

    def inline(self, raw: Any, entry: str) -> tuple[InlinePolicy, ...]:
        result = []
        for i, item in enumerate(self.items(raw, f"{entry}.inline_policies")):
            where = f"{entry}.inline_policies[{i}]"
            f = self.fields(item, where, required={"name", "document"}, optional=set())
            name = self.name(f["name"], where)
            result.append(InlinePolicy(name, self.document(f["document"], f"{where} {name!r}")))
        return tuple(result)

    def unique(self, names: list[str], kind: str, prefix: str = "") -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            # IAM names are unique regardless of case.
            if name.lower() in seen:
                singular = {"policies": "policy"}.get(kind, kind[:-1])
                raise self.fail(f"{prefix}{kind}[{i}] {name!r}", f"duplicate {singular} name {name!r}")
            seen.add(name.lower())

    def scenario(self, raw: Any) -> Scenario:
        top = self.fields(
            raw,
            "scenario",
            required={"name", "company"},
            optional={"description", "account_id", "region", "conventions", "accounts", "organization"} | _ENTITY_FIELDS,
        )
        account_id = self.account_id(top.get("account_id", "123456789012"), "account_id")
        main = self.entities(top, "", account_id)
        accounts = []
        for i, item in enumerate(self.items(top.get("accounts"), "accounts")):
            where = f"accounts[{i}]"
            f = self.fields(item, where, required={"name", "account_id"}, optional={"description"} | _ENTITY_FIELDS)
            where = f"{where} {self.name(f['name'], where)!r}"
            accounts.append(self.entities(f, f"{where}.", self.account_id(f["account_id"], f"{where}.account_id"), account_name=f["name"]))
        self.unique([a.name for a in accounts], "accounts")
        ids = [account_id] + [a.account_id for a in accounts]
        if len(set(ids)) != len(ids):
            raise self.fail("accounts", "two accounts share an account id")
        conventions = top.get("conventions") or {}
        if not isinstance(conventions, Mapping):
            raise self.fail("conventions", "expected a mapping of kinds (users, groups, ...) to descriptions")
        name = self.name(top["name"], "name")
        organization = self.organization(top.get("organization"), {name: account_id, **{a.name: a.account_id for a in accounts}})
        return Scenario(
            name=name,
            company=str(top["company"]),
            description=str(top.get("description", "")),
            account_id=account_id,
            region=str(top.get("region", "us-east-1")),
            conventions={str(k): str(v) for k, v in conventions.items()},
            policies=main.policies,
            groups=main.groups,
            users=main.users,
            roles=main.roles,
            buckets=main.buckets,
            accounts=tuple(accounts),
            organization=organization,
            source=self.source,
        )

    def account_id(self, raw: Any, entry: str) -> str:
        value = str(raw)
        if not _ACCOUNT.match(value):
            raise self.fail(entry, f"an account id is 12 digits, got {value!r}")
        return value

    def organization(self, raw: Any, accounts: dict[str, str]) -> Organization | None:
        if raw is None:
            return None
        f = self.fields(raw, "organization", required={"management_account"}, optional={"scps", "rcps", "units"})
        if f["management_account"] not in accounts:
            raise self.fail("organization", f"management_account {f['management_account']!r} is not an account: {', '.join(accounts)}")
        units = []
        for i, item in enumerate(self.items(f.get("units"), "organization.units")):
            where = f"organization.units[{i}]"
            u = self.fields(item, where, required={"name"}, optional={"accounts", "scps", "rcps"})
            where = f"{where} {self.name(u['name'], where)!r}"
            members = self.strings(u.get("accounts"), f"{where}.accounts")
            for member in members:
                if member not in accounts:
                    raise self.fail(where, f"unknown account {member!r}; accounts are: {', '.join(accounts)}")
            units.append(OrganizationalUnit(u["name"], members, self.org_policies(u.get("scps"), f"{where}.scps"), self.org_policies(u.get("rcps"), f"{where}.rcps")))
        return Organization(f["management_account"], tuple(units), self.org_policies(f.get("scps"), "organization.scps"), self.org_policies(f.get("rcps"), "organization.rcps"))

    def org_policies(self, raw: Any, entry: str) -> tuple[CustomerPolicy, ...]:
        result = []
        for i, item in enumerate(self.items(raw, entry)):
            where = f"{entry}[{i}]"
            f = self.fields(item, where, required={"name", "document"}, optional={"description"})
            name = self.name(f["name"], where)
            result.append(CustomerPolicy(name, self.document(f["document"], f"{where} {name!r}"), str(f.get("description", ""))))
        return tuple(result)

    def entities(self, top: Mapping[str, Any], prefix: str, account_id: str, *, account_name: str = "") -> Account:
        """Policies, groups, users, roles and buckets of one account (entries named under ``prefix``)."""
        policies = []
        for i, item in enumerate(self.items(top.get("policies"), f"{prefix}policies")):
            where = f"{prefix}policies[{i}]"
            f = self.fields(item, where, required={"name", "document"}, optional={"description", "path"})
            name = self.name(f["name"], where)
            policies.append(
                CustomerPolicy(name, self.document(f["document"], f"{where} {name!r}"), str(f.get("description", "")), f.get("path", "/"))
            )
        self.unique([p.name for p in policies], "policies", prefix)
        known_policies = {p.name for p in policies}

        def refs(value: Any, where: str) -> tuple[str, ...]:
            from labkit.mockaws import aws_managed_policy_data

            names = self.strings(value, f"{where}.managed_policies")
            for ref in names:
                if ref not in known_policies and not ref.startswith("arn:") and aws_managed_policy_data(ref) is None:
                    raise self.fail(where, f"unknown managed policy {ref!r}: not an AWS managed policy nor one under policies")
            return names

        groups = []
        for i, item in enumerate(self.items(top.get("groups"), f"{prefix}groups")):
            where = f"{prefix}groups[{i}]"
            f = self.fields(item, where, required={"name"}, optional={"managed_policies", "inline_policies", "path"})
            where = f"{where} {self.name(f['name'], where)!r}"
            groups.append(Group(f["name"], refs(f.get("managed_policies"), where), self.inline(f.get("inline_policies"), where), f.get("path", "/")))
        self.unique([g.name for g in groups], "groups", prefix)
        known_groups = {g.name for g in groups}

        users = []
        for i, item in enumerate(self.items(top.get("users"), f"{prefix}users")):
            where = f"{prefix}users[{i}]"
            f = self.fields(item, where, required={"name"}, optional={"groups", "managed_policies", "inline_policies", "tags", "path"})
            where = f"{where} {self.name(f['name'], where)!r}"
            member_of = self.strings(f.get("groups"), f"{where}.groups")
            for group in member_of:
                if group not in known_groups:
                    raise self.fail(where, f"unknown group {group!r}; groups are: {', '.join(sorted(known_groups))}")
            users.append(
                User(f["name"], member_of, refs(f.get("managed_policies"), where), self.inline(f.get("inline_policies"), where), self.tags(f.get("tags"), where), f.get("path", "/"))
            )
        self.unique([u.name for u in users], "users", prefix)

        roles = []
        for i, item in enumerate(self.items(top.get("roles"), f"{prefix}roles")):
            where = f"{prefix}roles[{i}]"
            f = self.fields(
                item,
                where,
                required={"name", "trust_policy"},
                optional={"description", "managed_policies", "inline_policies", "instance_profile", "tags", "path"},
            )
            where = f"{where} {self.name(f['name'], where)!r}"
            roles.append(
                Role(
                    f["name"],
                    self.document(f["trust_policy"], f"{where}.trust_policy"),
                    str(f.get("description", "")),
                    refs(f.get("managed_policies"), where),
                    self.inline(f.get("inline_policies"), where),
                    bool(f.get("instance_profile", False)),
                    self.tags(f.get("tags"), where),
                    f.get("path", "/"),
                )
            )
        self.unique([r.name for r in roles], "roles", prefix)

        buckets = []
        for i, item in enumerate(self.items(top.get("buckets"), f"{prefix}buckets")):
            where = f"{prefix}buckets[{i}]"
            f = self.fields(item, where, required={"name"}, optional={"objects", "tags", "policy"})
            where = f"{where} {self.name(f['name'], where, _BUCKET)!r}"
            objects = f.get("objects") or {}
            if not isinstance(objects, Mapping):
                raise self.fail(where, "objects must be a mapping of keys to text content")
            policy = self.document(f["policy"], f"{where}.policy") if f.get("policy") is not None else None
            buckets.append(Bucket(f["name"], {str(k): str(v) for k, v in objects.items()}, self.tags(f.get("tags"), where), policy))
        self.unique([b.name for b in buckets], "buckets", prefix)

        return Account(account_name, account_id, tuple(policies), tuple(groups), tuple(users), tuple(roles), tuple(buckets))

