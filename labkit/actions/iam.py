"""IAM and STS: entity ARNs with their paths, the calling user by default, tag-on-create, role assumption."""

from __future__ import annotations

from collections.abc import Callable

from labkit.actions.mapping import Request, Rules, Value
from labkit.actions.model import Target
from labkit.actions.state import iam_path

__all__ = ["RULES"]


def _with_path(kind: str, param: str) -> Callable[[Request], Value]:
    """``path + name`` for an IAM entity named by ``param``: the Path the call gives (when it creates
    the entity), else the path the lab's entity has, else ``/``."""

    def resolve(req: Request) -> Value:
        name = req.params.get(param)
        if not isinstance(name, str) or not name:
            return None
        path = req.params.get("Path") if req.operation.startswith(("Create", "Upload")) else None
        if not isinstance(path, str) or not path:
            path = iam_path(kind, name, req.account) if kind != "policy" else None
        return (path or "/").lstrip("/") + name

    return resolve


def _user(req: Request) -> Value:
    """The user named by UserName; without one, calls such as GetUser, ChangePassword or
    CreateAccessKey act on the calling user."""
    named = _with_path("user", "UserName")(req)
    if named is not None:
        return named
    marker = f":{req.account}:user/"
    return req.caller.split(marker, 1)[1] if marker in req.caller else None


def _mfa(req: Request) -> Value:
    serial = req.params.get("SerialNumber")
    if isinstance(serial, str) and ":mfa/" in serial:
        return serial.split(":mfa/", 1)[1]
    return _with_path("mfa", "VirtualMFADeviceName")(req)


def _oidc(req: Request) -> Value:
    url = req.params.get("Url")
    return url.split("://", 1)[-1] if isinstance(url, str) else None


_IAM_VARIABLES: dict[str, Callable[[Request], Value]] = {
    "UserNameWithPath": _user,
    "RoleNameWithPath": _with_path("role", "RoleName"),
    "GroupNameWithPath": _with_path("group", "GroupName"),
    "PolicyNameWithPath": _with_path("policy", "PolicyName"),
    "InstanceProfileNameWithPath": _with_path("instance-profile", "InstanceProfileName"),
    "CertificateNameWithPath": _with_path("server-certificate", "ServerCertificateName"),
    "MfaTokenIdWithPath": _mfa,
    "OidcProviderName": _oidc,
    "SamlProviderName": lambda req: req.params.get("Name"),
}

RULES = {
    "iam": Rules("iam", variables=_IAM_VARIABLES),
    "sts": Rules("sts", variables={"FederatedUserName": lambda req: req.params.get("Name")}),
}
_iam, _sts = RULES["iam"], RULES["sts"]

# Creating an entity with tags also needs the permission to tag it ("IAM: Create new users only
# with specific tags", reference_policies_examples_iam-new-user-tag.md, grants both).
_TAG_ON_CREATE = {
    "CreateUser": "iam:TagUser",
    "CreateRole": "iam:TagRole",
    "CreatePolicy": "iam:TagPolicy",
    "CreateInstanceProfile": "iam:TagInstanceProfile",
    "CreateOpenIDConnectProvider": "iam:TagOpenIDConnectProvider",
    "CreateSAMLProvider": "iam:TagSAMLProvider",
    "CreateVirtualMFADevice": "iam:TagMFADevice",
    "UploadServerCertificate": "iam:TagServerCertificate",
}


@_iam.handler(*_TAG_ON_CREATE)
def _create(req: Request) -> list[Target]:
    targets = req.targets(f"iam:{req.operation}")
    if req.params.get("Tags"):
        targets += req.targets(_TAG_ON_CREATE[req.operation])
    return targets


_LISTS = {"ListUsers": "user", "ListRoles": "role", "ListGroups": "group", "ListPolicies": "policy",
          "ListInstanceProfiles": "instance-profile", "ListServerCertificates": "server-certificate"}


@_iam.handler(*_LISTS)
def _list(req: Request) -> list[Target]:
    """IAM authorizes a listing on the path it lists, ``arn:aws:iam::<account>:user/`` for ListUsers
    (with its PathPrefix): AWS's denials name that resource, and policies scoped to ``user/*``
    allow it, though the reference lists no resource type for these actions."""
    prefix = req.params.get("PathPrefix")
    path = prefix if isinstance(prefix, str) and prefix.startswith("/") else "/"
    return req.targets(f"iam:{req.operation}", resources=[f"arn:aws:iam::{req.account}:{_LISTS[req.operation]}{path}"])


@_iam.handler("GenerateServiceLastAccessedDetails")
def _last_accessed(req: Request) -> list[Target]:
    arn = req.params.get("Arn")
    if not isinstance(arn, str):
        raise req.unmapped("no Arn")
    return req.targets("iam:GenerateServiceLastAccessedDetails", resources=[arn])


@_sts.handler("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetFederationToken")
def _assume(req: Request) -> list[Target]:
    """Passing session tags also needs sts:TagSession, and setting a source identity
    sts:SetSourceIdentity, on the same role (id_session-tags.md, id_credentials_temp_control-access_monitor.md)."""
    targets = req.targets(f"sts:{req.operation}")
    resources = [t.resource for t in targets if t.resource != "*"] or None
    if req.params.get("Tags") or req.params.get("TransitiveTagKeys"):
        keys = req.params.get("TransitiveTagKeys")
        context = {"sts:TransitiveTagKeys": tuple(keys)} if keys else None
        targets += req.targets("sts:TagSession", resources=resources, context=context)
    if req.params.get("SourceIdentity"):
        targets += req.targets("sts:SetSourceIdentity", resources=resources)
    return targets


@_sts.handler("AssumeRoot")
def _assume_root(req: Request) -> list[Target]:
    account = req.params.get("TargetPrincipal")
    if not isinstance(account, str):
        raise req.unmapped("no TargetPrincipal")
    return req.targets("sts:AssumeRoot", values={"Account": account})
