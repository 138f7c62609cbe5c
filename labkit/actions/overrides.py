"""The tables: IAM action names that differ from API operation names, service prefixes, global regions."""

from __future__ import annotations

__all__ = ["ACTIONS", "PREFIX", "GLOBAL_REGION", "CREATE_VERBS", "SERVICE_MODULES"]

#: botocore service name -> IAM service prefix, where they differ.
PREFIX = {
    "accessanalyzer": "access-analyzer",
    "monitoring": "cloudwatch",
    "stepfunctions": "states",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "sesv2": "ses",
    "opensearch": "es",
    "resourcegroupstaggingapi": "tag",
    "kinesisanalyticsv2": "kinesisanalytics",
    "iot-data": "iot",
    "sso-admin": "sso",
    "dynamodbstreams": "dynamodb",
}

#: Services with a single endpoint: ``aws:RequestedRegion`` is always that Region (IAM User Guide,
#: aws:RequestedRegion: "IAM calls are always made to the us-east-1 Region").
GLOBAL_REGION = {"iam": "us-east-1", "organizations": "us-east-1", "route53": "us-east-1", "cloudfront": "us-east-1"}

#: Operations named with these verbs create the resource they act on, so AWS authorizes them
#: against an ARN whose id it cannot know yet (``arn:aws:ec2:...:instance/*`` for RunInstances).
CREATE_VERBS = frozenset({"Create", "Run", "Allocate", "Import", "Request", "Copy", "Purchase", "Register", "Publish"})

#: The module holding a service's rules (variables and handlers); other services map generically.
SERVICE_MODULES = {
    "s3": "s3",
    "iam": "iam",
    "sts": "iam",
    "ec2": "ec2",
    "dynamodb": "dynamodb",
    "lambda": "awslambda",
    "sqs": "messaging",
    "sns": "messaging",
    "kms": "kms",
    "logs": "monitoring",
    "cloudwatch": "monitoring",
    "organizations": "organizations",
}

_S3_CONFIG = {
    # (Get operation(s), Put/Delete operations) -> the Get and Put actions AWS checks.
    "Encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration"),
    "Lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration"),
    "LifecycleConfiguration": ("GetLifecycleConfiguration", "PutLifecycleConfiguration"),
    "Replication": ("GetReplicationConfiguration", "PutReplicationConfiguration"),
    "AnalyticsConfiguration": ("GetAnalyticsConfiguration", "PutAnalyticsConfiguration"),
    "InventoryConfiguration": ("GetInventoryConfiguration", "PutInventoryConfiguration"),
    "MetricsConfiguration": ("GetMetricsConfiguration", "PutMetricsConfiguration"),
    "IntelligentTieringConfiguration": ("GetIntelligentTieringConfiguration", "PutIntelligentTieringConfiguration"),
    "AccelerateConfiguration": ("GetAccelerateConfiguration", "PutAccelerateConfiguration"),
    "NotificationConfiguration": ("GetBucketNotification", "PutBucketNotification"),
}


def _s3_actions() -> dict[str, str]:
    table = {
        "HeadBucket": "ListBucket",
        "ListObjects": "ListBucket",
        "ListObjectsV2": "ListBucket",
        "ListObjectVersions": "ListBucketVersions",
        "ListMultipartUploads": "ListBucketMultipartUploads",
        "ListParts": "ListMultipartUploadParts",
        "ListBuckets": "ListAllMyBuckets",
        "CreateMultipartUpload": "PutObject",
        "UploadPart": "PutObject",
        "CompleteMultipartUpload": "PutObject",
        "SelectObjectContent": "GetObject",
        "DeleteBucketCors": "PutBucketCORS",
        "DeleteBucketTagging": "PutBucketTagging",
        "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
        "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
        "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
        "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
        "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
        "WriteGetObjectResponse": "s3-object-lambda:WriteGetObjectResponse",
        "CreateSession": "s3express:CreateSession",
        "ListDirectoryBuckets": "s3express:ListAllMyDirectoryBuckets",
    }
    for name, (get, put) in _S3_CONFIG.items():
        table[f"GetBucket{name}"] = get
        table[f"PutBucket{name}"] = put
        table[f"DeleteBucket{name}"] = put
        if name.endswith("Configuration"):
            table[f"ListBucket{name}s"] = get
    return table


#: botocore service -> operation -> IAM action (``Name`` within the service's prefix, or
#: ``prefix:Name``), where the action is not ``<prefix>:<Operation>``. Operations needing several
#: actions, or actions that depend on the parameters, have handlers in the service modules.
ACTIONS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "s3": _s3_actions(),
    "lambda": {
        "Invoke": "InvokeFunction",
        "InvokeWithResponseStream": "InvokeFunction",
        "GetLayerVersionByArn": "GetLayerVersion",
    },
    "sqs": {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    },
    "sns": {"PublishBatch": "Publish"},
}
