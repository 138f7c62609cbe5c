"""labkit.actions for Amazon S3: bucket and object ARNs, renamed actions, copies, batches, s3: keys."""

from __future__ import annotations

import pytest

from labkit.actions import Target, authorizations
from labkit.calls import ApiCall

ACCOUNT = "123456789012"


def mapped(operation: str, **params: object) -> list[Target]:
    return authorizations(ApiCall("s3", operation, dict(params), "AKIDEXAMPLE", "us-east-1", "rest-xml"),
                          account_id=ACCOUNT, region="us-east-1", caller_arn=f"arn:aws:iam::{ACCOUNT}:user/alice")


def pairs(operation: str, **params: object) -> list[tuple[str, str]]:
    return [(t.action, t.resource) for t in mapped(operation, **params)]


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetObject", {"Bucket": "b", "Key": "docs/a.txt"}, [("s3:GetObject", "arn:aws:s3:::b/docs/a.txt")]),
        ("GetObject", {"Bucket": "b", "Key": "a", "VersionId": "v1"}, [("s3:GetObjectVersion", "arn:aws:s3:::b/a")]),
        ("HeadObject", {"Bucket": "b", "Key": "a"}, [("s3:GetObject", "arn:aws:s3:::b/a")]),
        ("PutObject", {"Bucket": "b", "Key": "a"}, [("s3:PutObject", "arn:aws:s3:::b/a")]),
        ("DeleteObject", {"Bucket": "b", "Key": "a", "VersionId": "v1"}, [("s3:DeleteObjectVersion", "arn:aws:s3:::b/a")]),
        ("HeadBucket", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("ListObjects", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("ListObjectsV2", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("ListObjectVersions", {"Bucket": "b"}, [("s3:ListBucketVersions", "arn:aws:s3:::b")]),
        ("ListBuckets", {}, [("s3:ListAllMyBuckets", "*")]),
        ("GetObjectTagging", {"Bucket": "b", "Key": "a"}, [("s3:GetObjectTagging", "arn:aws:s3:::b/a")]),
        ("GetObjectTagging", {"Bucket": "b", "Key": "a", "VersionId": "v"}, [("s3:GetObjectVersionTagging", "arn:aws:s3:::b/a")]),
        ("GetBucketPolicy", {"Bucket": "b"}, [("s3:GetBucketPolicy", "arn:aws:s3:::b")]),
        ("GetBucketEncryption", {"Bucket": "b"}, [("s3:GetEncryptionConfiguration", "arn:aws:s3:::b")]),
        ("DeleteBucketEncryption", {"Bucket": "b"}, [("s3:PutEncryptionConfiguration", "arn:aws:s3:::b")]),
        ("DeleteBucketCors", {"Bucket": "b"}, [("s3:PutBucketCORS", "arn:aws:s3:::b")]),
        ("GetPublicAccessBlock", {"Bucket": "b"}, [("s3:GetBucketPublicAccessBlock", "arn:aws:s3:::b")]),
        ("CreateMultipartUpload", {"Bucket": "b", "Key": "a"}, [("s3:PutObject", "arn:aws:s3:::b/a")]),
        ("ListParts", {"Bucket": "b", "Key": "a", "UploadId": "u"}, [("s3:ListMultipartUploadParts", "arn:aws:s3:::b/a")]),
        ("CreateBucket", {"Bucket": "b"}, [("s3:CreateBucket", "arn:aws:s3:::b")]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_s3_operation__maps_to_documented_action_and_resource(operation: str, params: dict, expected: list) -> None:
    assert pairs(operation, **params) == expected


def test_list_objects__sets_prefix_delimiter_and_max_keys() -> None:
    context = mapped("ListObjectsV2", Bucket="b", Prefix="home/alice/", Delimiter="/", MaxKeys=50)[0].context
    assert (context["s3:prefix"], context["s3:delimiter"], context["s3:max-keys"]) == ("home/alice/", "/", "50")


def test_put_object__sets_encryption_and_acl_header_keys() -> None:
    context = mapped("PutObject", Bucket="b", Key="a", ServerSideEncryption="aws:kms", SSEKMSKeyId="k1")[0].context
    assert context["s3:x-amz-server-side-encryption"] == "aws:kms"
    assert context["s3:x-amz-server-side-encryption-aws-kms-key-id"] == "k1"


def test_put_object_with_an_acl__also_needs_put_object_acl() -> None:
    targets = mapped("PutObject", Bucket="b", Key="a", ACL="public-read")
    assert [t.action for t in targets] == ["s3:PutObject", "s3:PutObjectAcl"]
    assert targets[0].context["s3:x-amz-acl"] == "public-read"


def test_put_object_with_tags__also_needs_put_object_tagging_with_request_object_tags() -> None:
    targets = mapped("PutObject", Bucket="b", Key="a", Tagging="cls=secret&team=red")
    assert [t.action for t in targets] == ["s3:PutObject", "s3:PutObjectTagging"]
    assert targets[1].context["s3:RequestObjectTag/cls"] == "secret"
    assert targets[1].context["s3:RequestObjectTagKeys"] == ("cls", "team")


def test_copy_object__reads_the_source_and_writes_the_target() -> None:
    targets = mapped("CopyObject", Bucket="dst", Key="b.txt", CopySource={"Bucket": "src", "Key": "a.txt"})
    assert [(t.action, t.resource) for t in targets] == [
        ("s3:GetObject", "arn:aws:s3:::src/a.txt"),
        ("s3:PutObject", "arn:aws:s3:::dst/b.txt"),
    ]
    assert targets[1].context["s3:x-amz-copy-source"] == "src/a.txt"


def test_copy_of_a_version__reads_it_with_get_object_version() -> None:
    assert pairs("CopyObject", Bucket="dst", Key="b", CopySource="src/a%20b?versionId=v1")[0] == (
        "s3:GetObjectVersion", "arn:aws:s3:::src/a b")


def test_delete_objects__deletes_each_object() -> None:
    delete = {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v1"}]}
    assert pairs("DeleteObjects", Bucket="bk", Delete=delete) == [
        ("s3:DeleteObject", "arn:aws:s3:::bk/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::bk/b"),
    ]


def test_create_bucket_with_object_lock__also_needs_lock_and_versioning() -> None:
    actions = [a for a, _ in pairs("CreateBucket", Bucket="b", ObjectLockEnabledForBucket=True)]
    assert actions == ["s3:CreateBucket", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"]


def test_create_bucket__sets_location_constraint() -> None:
    target = mapped("CreateBucket", Bucket="b", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})[0]
    assert target.context["s3:locationconstraint"] == "eu-west-1"


def test_bucket_of_no_lab_account__belongs_to_the_lab_account() -> None:
    assert mapped("GetObject", Bucket="unseen-bucket", Key="a")[0].resource_account == ACCOUNT


def test_access_point_arn_as_bucket__is_authorized_on_the_access_point() -> None:
    point = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/reports"
    assert pairs("GetObject", Bucket=point, Key="q1.csv") == [("s3:GetObject", f"{point}/object/q1.csv")]


def test_sdk_calls__are_signed_with_sigv4_headers() -> None:
    context = mapped("GetObject", Bucket="b", Key="a")[0].context
    assert (context["s3:authType"], context["s3:signatureversion"]) == ("REST-HEADER", "AWS4-HMAC-SHA256")
