"""Seeds a lab account with a scenario's company, written straight into moto's backends.

Seeding through boto3 would make some fifty API calls, each serialised by botocore and parsed
again by moto: about half a second on every kernel start and every ``lab.reset()``. Writing to
the backends' model methods (the same ones moto's API handlers call) takes a few milliseconds.
The scenario was validated when it was loaded, so nothing here should fail on bad input.
Built against moto 5.2.x, like the rest of labkit/mockaws.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from labkit.scenario import Scenario

__all__ = ["seed"]


def seed(scenario: Scenario) -> None:
    """Create the scenario's policies, groups, users, roles and buckets in the lab account."""
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    iam = iam_backends[scenario.account_id]["aws"]
    for policy in scenario.policies:
        iam.create_policy(
            description=policy.description,
            path=policy.path,
            policy_document=json.dumps(policy.document),
            policy_name=policy.name,
            tags=[],
        )
    for group in scenario.groups:
        iam.create_group(group.name, group.path)
        for ref in group.managed_policies:
            iam.attach_group_policy(scenario.policy_arn(ref), group.name)
        for inline in group.inline_policies:
            iam.put_group_policy(group.name, inline.name, json.dumps(inline.document))
    for user in scenario.users:
        iam.create_user(scenario.region, user.name, user.path, _tags(user.tags))
        for group_name in user.groups:
            iam.add_user_to_group(group_name, user.name)
        for ref in user.managed_policies:
            iam.attach_user_policy(scenario.policy_arn(ref), user.name)
        for inline in user.inline_policies:
            iam.put_user_policy(user.name, inline.name, json.dumps(inline.document))
    for role in scenario.roles:
        iam.create_role(
            role_name=role.name,
            assume_role_policy_document=json.dumps(role.trust_policy),
            path=role.path,
            permissions_boundary=None,
            description=role.description,
            tags=_tags(role.tags),
            max_session_duration="3600",
        )
        for ref in role.managed_policies:
            iam.attach_role_policy(scenario.policy_arn(ref), role.name)
        for inline in role.inline_policies:
            iam.put_role_policy(role.name, inline.name, json.dumps(inline.document))
        if role.instance_profile:
            iam.create_instance_profile(role.name, role.path, role_names=[role.name])

    s3 = s3_backends[scenario.account_id]["aws"]
    for bucket in scenario.buckets:
        s3.create_bucket(bucket.name, scenario.region)
        if bucket.tags:
            s3.put_bucket_tagging(bucket.name, dict(bucket.tags))
        if bucket.policy is not None:
            s3.put_bucket_policy(bucket.name, json.dumps(bucket.policy).encode("utf-8"))
        for key, body in bucket.objects.items():
            s3.put_object(bucket.name, key, body.encode("utf-8"))


def _tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]
