"""Resource-based policies: the document AWS consults on a resource, read from moto in process."""

from __future__ import annotations

import json
from urllib.parse import unquote

from labkit.actions.state import backend, quietly, s3_bucket, split_arn

__all__ = ["resource_policy", "aws_principals", "TRUST_POLICY_ACTIONS"]

#: The actions for which AWS consults a role's trust policy (its resource-based policy).
TRUST_POLICY_ACTIONS = frozenset({
    "sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession",
    "sts:SetSourceIdentity", "sts:SetContext",
})


def resource_policy(resource_arn: str, *, account_id: str, region: str, action: str | None = None) -> str | None:
    """The resource-based policy document AWS would consult for ``resource_arn``, as JSON text:
    an S3 bucket's policy (for the bucket and its objects), an SQS queue's ``Policy`` attribute, an
    SNS topic's policy, a KMS key policy, a Lambda function's policy, or an IAM role's trust policy.
    None when the resource has none, does not exist, or is of another kind.

    A role's trust policy governs only the ``sts:AssumeRole*`` family (:data:`TRUST_POLICY_ACTIONS`):
    pass ``action`` and an IAM action on the role (``iam:GetRole``) gets None, as AWS consults no
    resource policy for it.
    """
    arn = split_arn(resource_arn)
    if arn is None:
        return None
    account, where = arn.account or account_id, arn.region or region
    if arn.service == "s3":
        return quietly(_bucket_policy, arn.resource.split("/", 1)[0], account)
    if arn.service == "iam":
        if action is not None and action not in TRUST_POLICY_ACTIONS:
            return None
        return quietly(_trust_policy, resource_arn, account) if arn.resource.startswith("role/") else None
    reader = _READERS.get(arn.service)
    return quietly(reader, arn.resource, account, where, resource_arn) if reader is not None else None


def _bucket_policy(bucket_name: str, account: str) -> str | None:
    bucket = s3_bucket(bucket_name, account)
    policy = getattr(bucket, "policy", None)
    return policy.decode() if isinstance(policy, bytes) else policy


def _trust_policy(role_arn: str, account: str) -> str | None:
    from moto.iam.models import iam_backends

    iam = backend(iam_backends, account, "aws")
    if iam is None:
        return None
    role = next((r for r in iam.roles.values() if r.arn == role_arn), None)
    if role is None:
        return None
    document = role.assume_role_policy_document
    return document if document.lstrip().startswith("{") else unquote(document)


def _sqs(resource: str, account: str, region: str, _: str) -> str | None:
    from moto.sqs.models import sqs_backends

    sqs = backend(sqs_backends, account, region)
    queue = sqs.queues.get(resource) if sqs is not None else None
    return queue.policy if queue is not None and queue.policy else None


def _sns(resource: str, account: str, region: str, full: str) -> str | None:
    from moto.sns.models import sns_backends

    sns = backend(sns_backends, account, region)
    topic = sns.topics.get(full) if sns is not None else None
    return topic.policy if topic is not None else None


def _kms(resource: str, account: str, region: str, _: str) -> str | None:
    from moto.kms.models import kms_backends

    kms = backend(kms_backends, account, region)
    if kms is None or not resource.startswith("key/"):
        return None
    key = kms.keys.get(resource[4:])
    return key.policy if key is not None else None


def _lambda(resource: str, account: str, region: str, full: str) -> str | None:
    from moto.awslambda.models import lambda_backends

    awslambda = backend(lambda_backends, account, region)
    if awslambda is None or not resource.startswith("function:"):
        return None
    name, _, qualifier = resource[len("function:"):].partition(":")
    policy = json.loads(awslambda.get_policy(name, qualifier or None)).get("Policy")  # raises if none
    return aws_principals(policy) if isinstance(policy, str) and policy else None


def aws_principals(text: str) -> str:
    """moto keeps AddPermission's account principal as a bare id; AWS stores the account's root ARN."""
    document = json.loads(text)
    statements = document.get("Statement")
    for statement in statements if isinstance(statements, list) else []:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        if isinstance(principal, str) and principal.isdigit() and len(principal) == 12:
            statement["Principal"] = {"AWS": f"arn:aws:iam::{principal}:root"}
    return json.dumps(document)


_READERS = {"sqs": _sqs, "sns": _sns, "kms": _kms, "lambda": _lambda}
