"""Where labkit extends moto: every change to moto's behaviour lives in this one module.

Built and tested against moto 5.2.x (pinned in pyproject.toml); each patch names the moto
function it replaces.

* Permissions boundaries for users: moto has PutRolePermissionsBoundary but neither
  PutUserPermissionsBoundary nor DeleteUserPermissionsBoundary, and drops the boundary passed to
  CreateUser. labkit adds both APIs and keeps the boundary, which GetUser then returns.
* Bucket policies: moto's S3 applies them itself to object requests, ignoring their Principal
  element (a Deny for one user blocks everyone). labkit's gate evaluates them as AWS does, so
  moto's own check is switched off.
* AWS managed policies, loaded lazily. moto can load all ~1,600 AWS managed policies into every
  IAM backend, which costs over a second each time an account is first touched. labkit keeps them
  available by ARN from the moment the lab starts, but builds a policy object only when something
  asks for it: an attach, a ``get_policy``, a listing of every policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

__all__ = ["install", "aws_managed_policy_data"]

_AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
_installed = False


@lru_cache(maxsize=None)
def _raw_data() -> str:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return aws_managed_policies_data


@lru_cache(maxsize=4096)
def aws_managed_policy_data(name: str) -> dict[str, Any] | None:
    """The data moto ships for one AWS managed policy (Document, Path, versions...), or None.

    Finds the policy's entry in moto's JSON text and decodes that entry alone, so looking up a
    few policies costs microseconds rather than decoding the whole 4.7 MB document.
    """
    text = _raw_data()
    # Top-level keys sit at one space of indentation in moto's generated file.
    start = text.find(f'\n "{name}":{{')
    if start < 0:
        return None
    value, _ = json.JSONDecoder().raw_decode(text, start + len(name) + 5)
    return value


@lru_cache(maxsize=1)
def _all_aws_managed_policies() -> dict[str, Any]:
    return json.loads(_raw_data())


def _name_from_arn(arn: str) -> str | None:
    if not isinstance(arn, str) or not arn.startswith(_AWS_POLICY_PREFIX):
        return None
    return arn.rsplit("/", 1)[-1]


class _LazyManagedPolicies(dict):  # type: ignore[type-arg]
    """An IAM backend's ``managed_policies``, with AWS managed policies built on first access."""

    def __init__(self, backend: Any) -> None:
        super().__init__()
        self._backend = backend
        self._complete = False

    def _build(self, name: str, data: dict[str, Any]) -> Any:
        from moto.iam.models import AWSManagedPolicy

        backend = self._backend
        policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
        dict.__setitem__(self, policy.arn, policy)
        backend.aws_managed_policies.append(policy)
        return policy

    def _materialize(self, arn: str) -> Any | None:
        name = _name_from_arn(arn)
        if name is None or self._complete:
            return None
        data = aws_managed_policy_data(name)
        if data is None:
            return None
        policy_path = data.get("Path") or "/"
        if arn != f"{_AWS_POLICY_PREFIX}{policy_path.lstrip('/')}{name}":
            return None
        return self._build(name, data)

    def materialize_all(self) -> None:
        if self._complete:
            return
        for name, data in _all_aws_managed_policies().items():
            path = data.get("Path") or "/"
            if not dict.__contains__(self, f"{_AWS_POLICY_PREFIX}{path.lstrip('/')}{name}"):
                self._build(name, data)
        self._complete = True

    # Point look-ups: build just the one policy asked for.
    def __contains__(self, arn: object) -> bool:
        return dict.__contains__(self, arn) or self._materialize(arn) is not None  # type: ignore[arg-type]

    def __missing__(self, arn: str) -> Any:
        policy = self._materialize(arn)
        if policy is None:
            raise KeyError(arn)
        return policy

    def get(self, arn: str, default: Any = None) -> Any:
        try:
            return self[arn]
        except KeyError:
            return default

    # Whole-collection views: every policy must be there.
    def values(self) -> Any:
        self.materialize_all()
        return dict.values(self)

    def keys(self) -> Any:
        self.materialize_all()
        return dict.keys(self)

    def items(self) -> Any:
        self.materialize_all()
        return dict.items(self)

    def __iter__(self) -> Iterator[str]:
        self.materialize_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.materialize_all()
        return dict.__len__(self)


def _policy_or_404(backend: Any, arn: str, message: str) -> Any:
    from moto.iam.exceptions import NotFoundException

    policy = backend.managed_policies.get(arn)
    if policy is None:
        raise NotFoundException(message.format(arn=arn))
    return policy


def _attacher(getter: str, missing: str, *, skip_if_attached: bool) -> Any:
    """Replacement for moto's attach_<kind>_policy that looks up one policy, not all of them."""

    def attach(self: Any, policy_arn: str, name: str) -> None:
        policy = _policy_or_404(self, policy_arn, missing)
        target = getattr(self, getter)(name)
        if skip_if_attached and policy.arn in target.managed_policies:
            return
        policy.attach_to(target)

    return attach


def _detacher(getter: str) -> Any:
    """Replacement for moto's detach_<kind>_policy that looks up one policy, not all of them."""

    def detach(self: Any, policy_arn: str, name: str) -> None:
        from moto.iam.exceptions import NotFoundException

        target = getattr(self, getter)(name)
        policy = self.managed_policies.get(policy_arn)
        if policy is None or policy.arn not in target.managed_policies:
            raise NotFoundException(f"Policy {policy_arn} was not found.")
        policy.detach_from(target)

    return detach


def install() -> None:
    """Apply labkit's extensions to moto (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.iam.models import IAMBackend

    not_attachable = "Policy {arn} does not exist or is not attachable."
    IAMBackend._init_aws_policies = lambda self: []  # type: ignore[method-assign]
    IAMBackend._init_managed_policies = lambda self: _LazyManagedPolicies(self)  # type: ignore[method-assign]
    IAMBackend.attach_role_policy = _attacher("get_role", not_attachable, skip_if_attached=False)  # type: ignore[method-assign]
    IAMBackend.attach_user_policy = _attacher("get_user", not_attachable, skip_if_attached=False)  # type: ignore[method-assign]
    IAMBackend.attach_group_policy = _attacher(  # type: ignore[method-assign]
        "get_group", "Policy {arn} was not found.", skip_if_attached=True
    )
    IAMBackend.detach_role_policy = _detacher("get_role")  # type: ignore[method-assign]
    IAMBackend.detach_user_policy = _detacher("get_user")  # type: ignore[method-assign]
    IAMBackend.detach_group_policy = _detacher("get_group")  # type: ignore[method-assign]

    original_details = IAMBackend.get_account_authorization_details

    def get_account_authorization_details(self: Any, policy_filter: list[str]) -> Any:
        self.managed_policies.materialize_all()
        return original_details(self, policy_filter)

    IAMBackend.get_account_authorization_details = get_account_authorization_details  # type: ignore[method-assign]
    _install_user_boundaries()
    _install_bucket_policy_passthrough()
    _installed = True


def _install_bucket_policy_passthrough() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = lambda self, action, resource: PermissionResult.NEUTRAL  # type: ignore[method-assign]


def _install_user_boundaries() -> None:
    from moto.core.responses import EmptyResult
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import IAMBackend, User
    from moto.iam.responses import IamResponse

    def put_user_permissions_boundary(self: Any, user_name: str, permissions_boundary: str) -> None:
        user = self.get_user(user_name)
        if permissions_boundary not in self.managed_policies:
            raise NotFoundException(f"Policy {permissions_boundary} does not exist or is not attachable.")
        user.permissions_boundary_arn = permissions_boundary

    def delete_user_permissions_boundary(self: Any, user_name: str) -> None:
        self.get_user(user_name).permissions_boundary_arn = None

    def boundary(self: Any) -> dict[str, str] | None:
        arn = getattr(self, "permissions_boundary_arn", None)
        return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn} if arn else None

    IAMBackend.put_user_permissions_boundary = put_user_permissions_boundary  # type: ignore[attr-defined]
    IAMBackend.delete_user_permissions_boundary = delete_user_permissions_boundary  # type: ignore[attr-defined]
    User.permissions_boundary = property(boundary)  # type: ignore[attr-defined]

    def put_response(self: Any) -> Any:
        self.backend.put_user_permissions_boundary(self._get_param("UserName"), self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def delete_response(self: Any) -> Any:
        self.backend.delete_user_permissions_boundary(self._get_param("UserName"))
        return EmptyResult()

    original_create_user = IamResponse.create_user

    def create_user(self: Any) -> Any:
        boundary_arn = self._get_param("PermissionsBoundary")
        if boundary_arn and boundary_arn not in self.backend.managed_policies:
            raise NotFoundException(f"Policy {boundary_arn} does not exist or is not attachable.")
        result = original_create_user(self)
        if boundary_arn:
            self.backend.put_user_permissions_boundary(self._get_param("UserName"), boundary_arn)
        return result

    IamResponse.put_user_permissions_boundary = put_response  # type: ignore[attr-defined]
    IamResponse.delete_user_permissions_boundary = delete_response  # type: ignore[attr-defined]
    IamResponse.create_user = create_user  # type: ignore[method-assign]
