"""Tags: those a request carries (aws:RequestTag, aws:TagKeys) and those moto keeps on a resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labkit.actions.state import backend, quietly, split_arn

__all__ = ["tag_dict", "request_tag_context", "resource_tags"]

_TAG_PARAMS = ("Tags", "tags")
_KEY_PARAMS = ("TagKeys", "tagKeys")


def tag_dict(value: Any) -> dict[str, str] | None:
    """Tags in any of the shapes AWS APIs take them: ``[{"Key": k, "Value": v}]`` (IAM, EC2,
    DynamoDB, SNS, STS...), ``[{"TagKey": k, "TagValue": v}]`` (KMS) or ``{k: v}`` (Lambda, SQS,
    CloudWatch Logs). None if ``value`` is none of these."""
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return dict(value)
        return None
    if isinstance(value, (list, tuple)):
        found: dict[str, str] = {}
        for item in value:
            if not isinstance(item, Mapping):
                return None
            key = item.get("Key", item.get("TagKey", item.get("key")))
            if not isinstance(key, str):
                return None
            found[key] = str(item.get("Value", item.get("TagValue", item.get("value", ""))))
        return found
    return None


def request_tag_context(params: Mapping[str, Any]) -> dict[str, Any]:
    """``aws:RequestTag/<key>`` for each tag the call passes and ``aws:TagKeys`` for their keys (or
    for the keys an untag call names). EC2's ``TagSpecifications`` count with all their tags."""
    tags: dict[str, str] | None = None
    for name in _TAG_PARAMS:
        if name in params:
            tags = tag_dict(params[name])
            break
    specs = params.get("TagSpecifications")
    if isinstance(specs, list):
        tags = dict(tags or {})
        for spec in specs:
            if isinstance(spec, Mapping):
                tags.update(tag_dict(spec.get("Tags", [])) or {})
    context: dict[str, Any] = {}
    if tags:
        context.update((f"aws:RequestTag/{k}", v) for k, v in tags.items())
        context["aws:TagKeys"] = tuple(tags)
    for name in _KEY_PARAMS:
        keys = params.get(name)
        if isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
            context["aws:TagKeys"] = tuple(keys)
    return context


def resource_tags(resource_arn: str, *, account_id: str, region: str) -> dict[str, str]:
    """The tags moto keeps on a resource, read in process: IAM users, roles and policies, S3 buckets
    and objects, EC2 resources (instances, volumes...), DynamoDB tables, Lambda functions, SQS
    queues, SNS topics, KMS keys and CloudWatch Logs log groups. ``{}`` when it has none, does
    not exist, or is of another kind.

    For an S3 object these are the object's tags, which policies test with
    ``s3:ExistingObjectTag/<key>`` (S3 does not support ``aws:ResourceTag`` on objects); for any
    other resource they are its ``aws:ResourceTag/<key>`` values.
    """
    arn = split_arn(resource_arn)
    if arn is None:
        return {}
    reader = _READERS.get(arn.service)
    if reader is None:
        return {}
    found = quietly(reader, arn.resource, arn.account or account_id, arn.region or region, resource_arn)
    return dict(found) if found else {}


def _iam(resource: str, account: str, _: str, full: str) -> dict[str, str] | None:
    from moto.iam.models import iam_backends

    iam = backend(iam_backends, account, "aws")
    kind, _, rest = resource.partition("/")
    if iam is None or not rest:
        return None
    name = rest.rsplit("/", 1)[-1]
    if kind == "user":
        return tag_dict(iam.list_user_tags(name))
    if kind == "role":
        return tag_dict(iam.list_role_tags(name, None, 1000)[0])
    if kind == "policy":
        return tag_dict(iam.list_policy_tags(full, None, 1000)[0])
    return None


def _s3(resource: str, account: str, _: str, __: str) -> dict[str, str] | None:
    from labkit.actions.state import s3_bucket

    name, _, key = resource.partition("/")
    bucket = s3_bucket(name, account)
    if bucket is None:
        return None
    from moto.s3.models import s3_backends

    owner = backend(s3_backends, bucket.account_id, "aws")
    if owner is None:
        return None
    if not key:
        return owner.tagger.get_tag_dict_for_resource(bucket.arn)
    obj = bucket.keys.get(key)
    return owner.tagger.get_tag_dict_for_resource(obj.arn) if obj is not None else None


def _ec2(resource: str, account: str, region: str, _: str) -> dict[str, str] | None:
    from moto.ec2.models import ec2_backends

    ec2 = backend(ec2_backends, account, region)
    return dict(ec2.tags.get(resource.rsplit("/", 1)[-1], {})) if ec2 is not None else None


def _dynamodb(resource: str, account: str, region: str, full: str) -> dict[str, str] | None:
    from moto.dynamodb.models import dynamodb_backends

    dynamodb = backend(dynamodb_backends, account, region)
    table_arn = full.split("/index/")[0].split("/stream/")[0]
    return tag_dict(dynamodb.list_tags_of_resource(table_arn)) if dynamodb is not None else None


def _lambda(resource: str, account: str, region: str, full: str) -> dict[str, str] | None:
    from moto.awslambda.models import lambda_backends

    awslambda = backend(lambda_backends, account, region)
    if awslambda is None or not resource.startswith("function:"):
        return None
    unqualified = ":".join(full.split(":")[:7])
    return awslambda.list_tags(unqualified)


def _sqs(resource: str, account: str, region: str, _: str) -> dict[str, str] | None:
    from moto.sqs.models import sqs_backends

    sqs = backend(sqs_backends, account, region)
    queue = sqs.queues.get(resource) if sqs is not None else None
    return dict(queue.tags or {}) if queue is not None else None


def _sns(resource: str, account: str, region: str, full: str) -> dict[str, str] | None:
    from moto.sns.models import sns_backends

    sns = backend(sns_backends, account, region)
    return sns.list_tags_for_resource(full) if sns is not None and full in sns.topics else None


def _kms(resource: str, account: str, region: str, _: str) -> dict[str, str] | None:
    from moto.kms.models import kms_backends

    kms = backend(kms_backends, account, region)
    if kms is None or not resource.startswith("key/"):
        return None
    return tag_dict(kms.list_resource_tags(resource[4:])["Tags"])


def _logs(resource: str, account: str, region: str, _: str) -> dict[str, str] | None:
    from moto.logs.models import logs_backends

    logs = backend(logs_backends, account, region)
    if logs is None or not resource.startswith("log-group:"):
        return None
    name = resource[len("log-group:"):].split(":log-stream:")[0].removesuffix(":*")
    return logs.list_tags_log_group(name)


_READERS = {
    "iam": _iam,
    "s3": _s3,
    "ec2": _ec2,
    "dynamodb": _dynamodb,
    "lambda": _lambda,
    "sqs": _sqs,
    "sns": _sns,
    "kms": _kms,
    "logs": _logs,
}
