"""Who is calling (parsed from the caller's ARN) and whom a policy's Principal element names."""

from __future__ import annotations

import re
from typing import Any

from labkit.errors import InvalidInput, MalformedPolicyDocument

__all__ = ["Who", "PrincipalSpec", "UNSPECIFIED", "NONE", "DELEGATED", "CAPPED", "DIRECT", "GRANT_NAMES"]

# Caller kinds.
USER, ROLE, SESSION, FEDERATED_USER, ROOT, SERVICE, WEB_IDENTITY, CANONICAL, ANONYMOUS, UNKNOWN = range(10)
KIND_NAMES = ("user", "role", "assumed-role session", "federated user session", "account root user",
              "service principal", "web identity / SAML provider", "canonical user", "anonymous", "unspecified")
# Kinds that act through identity-based policies (and so meet SCPs, boundaries, session policies).
HAS_IDENTITY = frozenset({USER, ROLE, SESSION, FEDERATED_USER, ROOT, UNKNOWN})

# How a resource-based policy's Allow reaches the caller, weakest first. The evaluation-logic page
# (reference_policies_evaluation-logic.md, "Resource-based policies" step, same account) says:
# naming the caller itself (user ARN, session ARN, federated-user ARN, or "*") grants DIRECTly,
# past implicit denies in identity policies, boundaries and session policies; naming the role
# behind a session, or the IAM user who federated, is CAPPED by boundaries and session policies;
# naming the account DELEGATES to the account, whose identity policies must then allow.
NONE, DELEGATED, CAPPED, DIRECT = range(4)
GRANT_NAMES = {NONE: None, DELEGATED: "account", CAPPED: "capped", DIRECT: "direct"}

_ACCOUNT = re.compile(r"[0-9]{12}")
_CANONICAL = re.compile(r"[0-9a-fA-F]{64}")
_UNIQUE_ID = re.compile(r"[A-Z0-9]{16,128}")
_WEB_IDENTITY = frozenset({"cognito-identity.amazonaws.com", "www.amazon.com", "graph.facebook.com",
                           "accounts.google.com", "appleid.apple.com"})
_SERVICE_LINKED_PATH = "/aws-service-role/"


class _Unspecified:
    """The caller of a simulation that names none (SimulateCustomPolicy without CallerArn): it has
    identity-based policies, but no ARN, account or principal keys. Not the anonymous caller."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSPECIFIED"


UNSPECIFIED = _Unspecified()


def _split_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(partition, service, account, resource) of an IAM or STS principal ARN, else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or parts[2] not in ("iam", "sts"):
        return None
    return parts[1], parts[2], parts[4], parts[5]


def _path_and_name(rest: str) -> tuple[str, str]:
    """'dev/team/alice' -> ('/dev/team/', 'alice')."""
    head, _, name = rest.rpartition("/")
    return (f"/{head}/" if head else "/"), name


class Who:
    """The caller of a request, as the engine needs it. Built once per :class:`Request`."""

    __slots__ = ("kind", "arn", "account", "partition", "name", "role_key", "role_path", "role_arn",
                 "federated_by", "slr", "has_identity", "auto_keys")

    def __init__(self, principal: Any, *, role_path: str | None = None, federated_by: str | None = None) -> None:
        self.arn: str | None = None
        self.account: str | None = None
        self.partition = "aws"
        self.name: str | None = None
        self.role_key: tuple[str, str] | None = None
        self.role_path = role_path
        self.role_arn: str | None = None
        self.federated_by = federated_by
        self.slr = False
        if principal is None:
            # An unsigned request: the anonymous caller (reference_policies_elements_principal.md,
            # "Anonymous principals").
            self.kind = ANONYMOUS
        elif principal is UNSPECIFIED:
            self.kind = UNKNOWN
        elif not isinstance(principal, str):
            raise InvalidInput(f"principal must be an ARN string, or None for the anonymous caller, "
                               f"not {type(principal).__name__}")
        else:
            self._parse(principal)
        if role_path is not None:
            if self.kind != SESSION or not isinstance(role_path, str) or not (role_path.startswith("/") and role_path.endswith("/")):
                raise InvalidInput("role_path applies to assumed-role sessions and must look like '/path/'")
            self._set_role(role_path)
        if federated_by is not None:
            parsed = _split_arn(federated_by) if isinstance(federated_by, str) else None
            if self.kind != FEDERATED_USER or parsed is None or not (parsed[3].startswith("user/") or parsed[3] == "root"):
                raise InvalidInput("federated_by applies to federated user sessions and must be an IAM user or root ARN")
        self.has_identity = self.kind in HAS_IDENTITY
        self.auto_keys = self._auto_keys()

    def _parse(self, principal: str) -> None:
        if principal in ("*", "anonymous"):
            self.kind = ANONYMOUS
            return
        if _ACCOUNT.fullmatch(principal):
            principal = f"arn:aws:iam::{principal}:root"
        if principal.startswith("arn:"):
            parsed = _split_arn(principal)
            if parsed is None or not _ACCOUNT.fullmatch(parsed[2]):
                raise InvalidInput(f"not an IAM or STS principal ARN: {principal!r}")
            self.partition, service, self.account, rest = parsed
            self.arn = principal
            kind_word, _, tail = rest.partition("/")
            if service == "iam" and rest == "root":
                self.kind = ROOT
            elif service == "iam" and kind_word == "user" and tail:
                self.kind, self.name = USER, _path_and_name(tail)[1]
            elif service == "iam" and kind_word == "role" and tail:
                self.kind = ROLE
                path, self.name = _path_and_name(tail)
                self.role_key, self.role_path, self.role_arn = (self.account, self.name), path, principal
                self.slr = path.startswith(_SERVICE_LINKED_PATH)
            elif service == "iam" and kind_word in ("saml-provider", "oidc-provider") and tail:
                self.kind = WEB_IDENTITY
            elif service == "sts" and kind_word == "assumed-role" and tail.count("/") == 1 and "" not in tail.split("/"):
                self.kind = SESSION
                self.name = tail.split("/")[0]
                self.role_key = (self.account, self.name)
                self._set_role(None)
            elif service == "sts" and kind_word == "federated-user" and tail and "/" not in tail:
                self.kind, self.name = FEDERATED_USER, tail
            else:
                raise InvalidInput(f"not a principal that can make requests: {principal!r}")
            return
        if _CANONICAL.fullmatch(principal):
            self.kind, self.arn = CANONICAL, principal
        elif "." in principal and not any(c.isspace() for c in principal) and "/" not in principal:
            service_like = principal.endswith((".amazonaws.com", ".amazonaws.com.cn"))
            self.kind = WEB_IDENTITY if principal in _WEB_IDENTITY or not service_like else SERVICE
            self.arn = principal
        else:
            raise InvalidInput(f"not a principal: {principal!r} (give an ARN, a service principal or 'anonymous')")

    def _set_role(self, path: str | None) -> None:
        self.role_path = path
        self.role_arn = f"arn:{self.partition}:iam::{self.account}:role{path or '/'}{self.name}"
        self.slr = bool(path and path.startswith(_SERVICE_LINKED_PATH))

    def _auto_keys(self) -> dict[str, tuple[str, ...]]:
        """The global condition keys AWS puts in every request context for this caller.

        reference_policies_condition-keys.md (aws:PrincipalArn, aws:PrincipalAccount,
        aws:PrincipalType, aws:username, aws:userid) and the "Principal key values" table of
        reference_policies_variables.md. aws:userid for users and roles is a unique id labkit
        cannot derive from the ARN: pass it in the context when a policy needs it.
        """
        kind, keys = self.kind, {}
        if kind in (USER, ROLE, SESSION, FEDERATED_USER, ROOT):
            keys["aws:principalarn"] = self.role_arn if kind == SESSION else self.arn
            keys["aws:principalaccount"] = self.account
            keys["aws:principaltype"] = {USER: "User", ROLE: "AssumedRole", SESSION: "AssumedRole",
                                         FEDERATED_USER: "FederatedUser", ROOT: "Account"}[kind]
            keys["aws:principalisawsservice"] = "false"
            if kind == USER:
                keys["aws:username"] = self.name
            elif kind == FEDERATED_USER:
                keys["aws:userid"] = f"{self.account}:{self.name}"
            elif kind == ROOT:
                keys["aws:userid"] = self.account
        elif kind == SERVICE:
            keys["aws:principalisawsservice"] = "true"
            keys["aws:principalservicename"] = self.arn
        elif kind == ANONYMOUS:
            keys.update({"aws:principaltype": "Anonymous", "aws:principalaccount": "anonymous", "aws:userid": "anonymous"})
        return {k: (v,) for k, v in keys.items()}

    def chain(self) -> tuple:
        """Every identity a NotPrincipal must list to leave this caller out of a Deny.

        reference_policies_elements_notprincipal.md: AWS may check the account, then the role, then
        the session (or the account, then the user), so each must be named.
        """
        account = ("account", self.account)
        kind = self.kind
        if kind in (USER, FEDERATED_USER):
            return (("arn", self.arn), account)
        if kind == SESSION:
            return (("arn", self.arn), ("role", self.role_key), account)
        if kind == ROLE:
            return (("role", self.role_key), account)
        if kind == ROOT:
            return (account,)
        if kind == SERVICE:
            return (("service", self.arn),)
        if kind == WEB_IDENTITY:
            return (("federated", self.arn),)
        if kind == CANONICAL:
            return (("canonical", self.arn),)
        return ()

    def describe(self) -> str:
        return f"{KIND_NAMES[self.kind]} {self.arn}" if self.arn else KIND_NAMES[self.kind]


def _strings(value: Any, *, where: str, statement: str | int) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise MalformedPolicyDocument(f"{where} values must be a string or a list of strings",
                                      statement=statement, element=where)
    return values


class PrincipalSpec:
    """A compiled Principal or NotPrincipal element."""

    __slots__ = ("everyone", "arns", "accounts", "roles", "services", "federated", "canonical", "ids")

    def __init__(self, value: Any, *, element: str, statement: str | int) -> None:
        self.everyone = False
        self.arns: set[str] = set()
        self.accounts: set[str] = set()
        self.roles: dict[tuple[str, str], set[str]] = {}
        self.services: set[str] = set()
        self.federated: set[str] = set()
        self.canonical: set[str] = set()
        self.ids: set[str] = set()  # unique ids (AIDA..., AROA...): kept, never matched
        if value == "*":
            self.everyone = True
            return
        if not isinstance(value, dict) or not value:
            raise MalformedPolicyDocument(f"{element} must be \"*\" or an object such as {{\"AWS\": ...}}",
                                          statement=statement, element=element)
        for kind, entries in value.items():
            if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
                raise MalformedPolicyDocument(f"Invalid principal type {kind!r} in policy",
                                              statement=statement, element=element)
            for entry in _strings(entries, where=element, statement=statement):
                if kind == "AWS":
                    self._add_aws(entry, element=element, statement=statement)
                elif kind == "Service":
                    self.services.add(entry)
                elif kind == "Federated":
                    self.federated.add(entry)
                else:
                    self.canonical.add(entry)

    def _add_aws(self, entry: str, *, element: str, statement: str | int) -> None:
        # reference_policies_elements_principal.md: "*", an account id or its root ARN (both mean
        # any principal of the account), or the ARN of a user, role, session or federated user.
        # A wildcard inside an ARN is not a pattern there ("You cannot use a wildcard to match part
        # of a principal name or ARN"): such an entry is kept as literal text and matches nothing.
        if entry == "*":
            self.everyone = True
        elif _ACCOUNT.fullmatch(entry):
            self.accounts.add(entry)
        elif entry.startswith("arn:"):
            parsed = _split_arn(entry)
            if parsed is not None and parsed[3] == "root":
                self.accounts.add(parsed[2])
            elif parsed is not None and parsed[1] == "iam" and parsed[3].startswith("role/"):
                path, name = _path_and_name(parsed[3][5:])
                self.roles.setdefault((parsed[2], name), set()).add(path)
            else:
                self.arns.add(entry)
        elif _UNIQUE_ID.fullmatch(entry):
            self.ids.add(entry)
        else:
            raise MalformedPolicyDocument(f"Invalid principal in policy: {entry!r}", statement=statement, element=element)

    def _role_named(self, who: Who) -> bool:
        paths = self.roles.get(who.role_key) if who.role_key else None
        return bool(paths) and (who.role_path is None or who.role_path in paths)

    def grant(self, who: Who) -> int:
        """How strongly this element names the caller: NONE, DELEGATED, CAPPED or DIRECT."""
        if self.everyone:
            return DIRECT
        kind = who.kind
        if kind in (USER, SESSION, FEDERATED_USER) and who.arn in self.arns:
            return DIRECT
        if kind == ROLE and self._role_named(who):
            return DIRECT
        if kind == SESSION and self._role_named(who):
            return CAPPED
        if kind == FEDERATED_USER and who.federated_by is not None:
            if who.federated_by in self.arns:
                return CAPPED
        if kind in (USER, ROLE, SESSION, FEDERATED_USER, ROOT):
            return DELEGATED if who.account in self.accounts else NONE
        if kind == SERVICE:
            return DIRECT if who.arn in self.services else NONE
        if kind == WEB_IDENTITY:
            return DIRECT if who.arn in self.federated else NONE
        if kind == CANONICAL:
            return DIRECT if who.arn in self.canonical else NONE
        return NONE

    def _names(self, link: tuple) -> bool:
        what, value = link
        if what == "arn":
            return value in self.arns
        if what == "account":
            return value in self.accounts
        if what == "role":
            return value in self.roles
        return value in {"service": self.services, "federated": self.federated, "canonical": self.canonical}[what]

    def names_all(self, who: Who) -> bool:
        """Whether every identity in the caller's chain is listed (NotPrincipal with Deny)."""
        if self.everyone:
            return True
        chain = who.chain()
        return bool(chain) and all(self._names(link) for link in chain)

    def names_any(self, who: Who) -> bool:
        """Whether any identity in the caller's chain is listed (NotPrincipal with Allow)."""
        return self.everyone or any(self._names(link) for link in who.chain())
