"""Cheap look-ups in moto's in-process backends: the lab facts an ARN or context needs beyond the call."""

# Each reads moto's models directly (no boto3 call, no backend created as a side effect) and answers
# None when the lab does not hold the thing, or when moto runs out of process.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "Arn",
    "split_arn",
    "backend",
    "quietly",
    "s3_bucket",
    "bucket_owner",
    "iam_path",
    "instance_profile_roles",
    "kms_key_id",
    "organization",
    "organizations_policy_type",
    "dynamodb_key_schema",
    "kms_key_of_ciphertext",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def split_arn(arn: str) -> Arn | None:
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn":
        return None
    return Arn(*fields[1:])


def backend(backends: Any, account: str, region: str) -> Any:
    """moto's backend for ``account`` and ``region`` if it exists already (None otherwise): plain
    dict reads, as indexing a BackendDict would create an empty backend."""
    regions = dict.get(backends, account)
    return dict.get(regions, region) if regions is not None else None


def quietly(read: Callable[..., T], *args: Any) -> T | None:
    """``read(*args)``, or None when moto says the resource does not exist."""
    try:
        return read(*args)
    except Exception:  # moto's not-found errors have no common base class beyond this
        return None


def s3_bucket(name: str, account: str) -> Any:
    """moto's bucket ``name``, in whichever account owns it."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    found = backend(s3_backends, owner[1] if owner else account, "aws")
    return found.buckets.get(name) if found is not None else None


def bucket_owner(name: str, account: str) -> str:
    """The account owning bucket ``name``: the one moto created it in, else ``account``.

    This is the hook for cross-account labs: S3 ARNs carry no account, so the owner is looked up.
    """
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(name)
    return owner[1] if owner else account


def iam_path(kind: str, name: str, account: str) -> str | None:
    """The path (``/`` or ``/division/``) of IAM user, role, group or instance profile ``name``."""
    from moto.iam.models import iam_backends

    iam = backend(iam_backends, account, "aws")
    if iam is None:
        return None
    if kind == "user":
        entity = iam.users.get(name)
    elif kind == "group":
        entity = iam.groups.get(name)
    elif kind == "role":
        entity = next((r for r in iam.roles.values() if r.name == name), None)
    elif kind == "instance-profile":
        entity = next((p for p in iam.instance_profiles.values() if p.name == name), None)
    else:
        return None
    return getattr(entity, "path", None) or None


def instance_profile_roles(profile: str, account: str) -> list[str]:
    """ARNs of the roles in instance profile ``profile`` (a name or an ARN)."""
    from moto.iam.models import iam_backends

    iam = backend(iam_backends, account, "aws")
    if iam is None:
        return []
    for found in iam.instance_profiles.values():
        if profile in (found.name, found.arn):
            return [role.arn for role in found.roles]
    return []


def kms_key_id(alias: str, account: str, region: str) -> str | None:
    """The id of the KMS key that alias ``alias/...`` names in the lab."""
    from moto.kms.models import kms_backends

    kms = backend(kms_backends, account, region)
    if kms is None:
        return None
    return next((key.id for key in kms.keys.values() if alias in key.aliases), None)


def dynamodb_key_schema(table: str, account: str, region: str) -> tuple[str, str | None] | None:
    """The partition and sort key attribute names of DynamoDB table ``table``."""
    from moto.dynamodb.models import dynamodb_backends

    dynamodb = backend(dynamodb_backends, account, region)
    found = dynamodb.tables.get(table) if dynamodb is not None else None
    return (found.hash_key_attr, found.range_key_attr) if found is not None else None


def kms_key_of_ciphertext(blob: object) -> str | None:
    """The id of the key a moto ciphertext was made with (moto's blobs start with the key id)."""
    if not isinstance(blob, (bytes, bytearray)) or len(blob) < 36:
        return None
    head = bytes(blob[:36]).decode("ascii", "replace")
    return head if head.count("-") == 4 else None


def organization(account: str) -> tuple[str, str] | None:
    """(organization id, management account) of the organization ``account`` belongs to."""
    from moto.organizations.models import organizations_backends

    master = organizations_backends.master_accounts.get(account)
    for candidate in (account, master[0] if master else None):
        orgs = backend(organizations_backends, candidate, "aws") if candidate else None
        if orgs is not None and orgs.org is not None:
            return str(orgs.org.id), str(orgs.org.master_account_id)
    return None


def organizations_policy_type(policy_id: str, account: str) -> str | None:
    """The type (``SERVICE_CONTROL_POLICY``...) of organization policy ``p-...``."""
    from moto.organizations.models import organizations_backends

    found = organization(account)
    orgs = backend(organizations_backends, found[1], "aws") if found else None
    policy = next((p for p in orgs.policies if p.id == policy_id), None) if orgs is not None else None
    return str(policy.type) if policy is not None else None
