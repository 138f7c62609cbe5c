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
from typing import Any

from labkit.identity import admin_credentials
from labkit.scenario import Account, Scenario

__all__ = ["seed"]


def seed(scenario: Scenario) -> None:
    """Create every account's policies, groups, users, roles and buckets, then the organization."""
    for account in scenario.all_accounts():
        seed_account(scenario, account)
    if scenario.organization is not None:
        seed_organization(scenario)


def seed_account(scenario: Scenario, account: Account) -> None:
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    iam = iam_backends[account.account_id]["aws"]
    register_key(account.account_id, *admin_credentials(account.account_id))
    for policy in account.policies:
        iam.create_policy(
            description=policy.description,
            path=policy.path,
            policy_document=json.dumps(policy.document),
            policy_name=policy.name,
            tags=[],
        )
    for group in account.groups:
        iam.create_group(group.name, group.path)
        for ref in group.managed_policies:
            iam.attach_group_policy(scenario.policy_arn(ref, account), group.name)
        for inline in group.inline_policies:
            iam.put_group_policy(group.name, inline.name, json.dumps(inline.document))
    for user in account.users:
        iam.create_user(scenario.region, user.name, user.path, _tags(user.tags))
        for group_name in user.groups:
            iam.add_user_to_group(group_name, user.name)
        for ref in user.managed_policies:
            iam.attach_user_policy(scenario.policy_arn(ref, account), user.name)
        for inline in user.inline_policies:
            iam.put_user_policy(user.name, inline.name, json.dumps(inline.document))
    for role in account.roles:
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
            iam.attach_role_policy(scenario.policy_arn(ref, account), role.name)
        for inline in role.inline_policies:
            iam.put_role_policy(role.name, inline.name, json.dumps(inline.document))
        if role.instance_profile:
            iam.create_instance_profile(role.name, role.path, role_names=[role.name])

    s3 = s3_backends[account.account_id]["aws"]
    for bucket in account.buckets:
        s3.create_bucket(bucket.name, scenario.region)
        if bucket.tags:
            s3.put_bucket_tagging(bucket.name, dict(bucket.tags))
        if bucket.policy is not None:
            s3.put_bucket_policy(bucket.name, json.dumps(bucket.policy).encode("utf-8"))
        for key, body in bucket.objects.items():
            s3.put_object(bucket.name, key, body.encode("utf-8"))


def seed_organization(scenario: Scenario) -> None:
    """The organization: created by the management account, the other accounts in it, in OUs."""
    from moto.organizations.models import organizations_backends

    spec = scenario.organization
    assert spec is not None
    ids = {a.name: a.account_id for a in scenario.all_accounts()}
    management = ids[spec.management_account]
    orgs = organizations_backends[management]["aws"]
    orgs.create_organization(scenario.region, FeatureSet="ALL")
    root_id = orgs.org.root_id
    members = {name for unit in spec.units for name in unit.accounts}
    for name, account_id in ids.items():
        if account_id == management or name not in members:
            continue  # accounts in no unit stay outside the organization
        orgs.create_account(AccountName=name, Email=f"aws+{name}@example.com")
        created = orgs.accounts[-1]
        # moto picks random account ids; the scenario's are fixed.
        organizations_backends.master_accounts.pop(created.id, None)
        created.id = account_id
        organizations_backends.master_accounts[account_id] = (management, "aws")

    def attach(policies: Any, kind: str, target: str) -> None:
        for policy in policies:
            made = orgs.create_policy(Name=policy.name, Description=policy.description, Type=kind, Content=json.dumps(policy.document))
            orgs.attach_policy(PolicyId=made["Policy"]["PolicySummary"]["Id"], TargetId=target)

    if spec.rcps or any(unit.rcps for unit in spec.units):  # AttachPolicy needs the type enabled
        orgs.enable_policy_type(RootId=root_id, PolicyType="RESOURCE_CONTROL_POLICY")
    attach(spec.scps, "SERVICE_CONTROL_POLICY", root_id)
    attach(spec.rcps, "RESOURCE_CONTROL_POLICY", root_id)
    for unit in spec.units:
        ou_id = orgs.create_organizational_unit(Name=unit.name, ParentId=root_id)["OrganizationalUnit"]["Id"]
        attach(unit.scps, "SERVICE_CONTROL_POLICY", ou_id)
        attach(unit.rcps, "RESOURCE_CONTROL_POLICY", ou_id)
        for member in unit.accounts:
            orgs.move_account(AccountId=ids[member], SourceParentId=root_id, DestinationParentId=ou_id)


def register_key(account_id: str, access_key: str, secret_key: str) -> None:
    """Make moto route calls signed with ``access_key`` to ``account_id``.

    moto finds the account of a request by looking its access key up in each account's IAM
    backend (moto.iam.models.get_account_id_from); its own STS keys are registered the same way.
    """
    from moto.iam.models import AccessKey, iam_backends

    key = AccessKey(None, prefix="AKIA", account_id=account_id)
    key.access_key_id = access_key
    key.secret_access_key = secret_key
    iam_backends[account_id]["aws"].access_keys[access_key] = key


def _tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]
