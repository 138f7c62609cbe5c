"""Checks for exercises/01_users_and_groups: users, groups, and policies attached to groups."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from labkit.account import user_access
from labkit.checks import CheckContext, Fail, check

NOTEBOOK = "01_users_and_groups"


def _access(ctx: CheckContext, user: str) -> Any:
    iam = ctx.client("iam")
    try:
        return user_access(iam, user)
    except iam.exceptions.NoSuchEntityException:
        raise Fail(f"There is no IAM user named {user!r}.") from None


def _group_members(ctx: CheckContext, group: str) -> set[str]:
    iam = ctx.client("iam")
    try:
        return {u["UserName"] for u in iam.get_group(GroupName=group)["Users"]}
    except iam.exceptions.NoSuchEntityException:
        raise Fail(f"There is no IAM group named {group!r}.") from None


@check("users.1", points=2, hint="iam.create_user(UserName=...), then iam.add_user_to_group(GroupName=..., UserName=...).")
def new_developer(ctx: CheckContext) -> None:
    """A user grace, a developer, with her permissions from the group only."""
    access = _access(ctx, "grace")
    if "developers" not in access.groups:
        raise Fail("grace exists but is not in the developers group.")
    if access.direct:
        raise Fail(f"grace has policies of her own ({', '.join(access.direct)}); her permissions should come from her group.")


@check("users.2", points=2, hint="Use iam.list_groups_for_user, then iam.list_attached_group_policies for each group.")
def carols_policies(ctx: CheckContext) -> None:
    """The AWS managed policies that reach carol through her groups."""
    if ctx.answer is None:
        raise Fail("No answer yet: set `answer` to a sorted list of policy names, then run this cell again.")
    expected = sorted(_access(ctx, "carol").managed_policies)
    answer = ctx.answer
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer):
        raise Fail("`answer` should be a list of policy names (strings), like ['ReadOnlyAccess'].")
    if sorted(answer) != expected:
        raise Fail(f"That is not the set of managed policies that reach carol ({len(expected)} policies do).")
    if list(answer) != sorted(answer):
        raise Fail("Right policies, but the list is not sorted.")


@check("users.3", points=2, hint="iam.create_group, iam.attach_group_policy with the policy's ARN, iam.add_user_to_group.")
def analysts_group(ctx: CheckContext) -> None:
    """A group analysts, with AmazonS3ReadOnlyAccess, that erin belongs to."""
    members = _group_members(ctx, "analysts")
    attached = {p["PolicyName"] for p in ctx.client("iam").list_attached_group_policies(GroupName="analysts")["AttachedPolicies"]}
    if "AmazonS3ReadOnlyAccess" not in attached:
        raise Fail("The analysts group does not have the AWS managed policy AmazonS3ReadOnlyAccess attached.")
    if "erin" not in members:
        raise Fail("erin is not a member of the analysts group.")


@check("users.4", points=3, hint="iam.put_group_policy(GroupName='developers', PolicyName='TelemetryRead', PolicyDocument=json.dumps({...})).")
def telemetry_read(ctx: CheckContext) -> None:
    """Developers can read the telemetry bucket through an inline group policy, and nothing more."""
    from labkit.policy import Request, evaluate

    iam = ctx.client("iam")
    try:
        document = iam.get_group_policy(GroupName="developers", PolicyName="TelemetryRead")["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        raise Fail("The developers group has no inline policy named TelemetryRead.") from None
    if isinstance(document, str):
        document = json.loads(unquote(document))
    developer = "arn:aws:iam::123456789012:user/alice"

    def allowed(action: str, resource: str) -> bool:
        return evaluate(Request(action, resource, developer), identity_policies=[document]).result == "allowed"

    if not allowed("s3:ListBucket", "arn:aws:s3:::acme-telemetry"):
        raise Fail("TelemetryRead does not let developers list the acme-telemetry bucket (s3:ListBucket on the bucket ARN).")
    if not allowed("s3:GetObject", "arn:aws:s3:::acme-telemetry/raw/2026-11-01/flight-17.csv"):
        raise Fail("TelemetryRead does not let developers read objects in acme-telemetry (s3:GetObject on arn:aws:s3:::acme-telemetry/*).")
    for action, resource in (
        ("s3:PutObject", "arn:aws:s3:::acme-telemetry/raw/new.csv"),
        ("s3:DeleteObject", "arn:aws:s3:::acme-telemetry/raw/2026-11-01/flight-17.csv"),
        ("s3:GetObject", "arn:aws:s3:::acme-finance/reports/2026-q3.csv"),
        ("iam:CreateUser", "arn:aws:iam::123456789012:user/mallory"),
    ):
        if allowed(action, resource):
            raise Fail(f"TelemetryRead allows more than reading telemetry: it allows {action} on {resource}.")


@check("users.5", points=3, hint="Create the group, attach the policy to it, add henry, then iam.detach_user_policy.")
def henry_through_group(ctx: CheckContext) -> None:
    """henry's EC2 read access comes from a group operators, not from a policy on henry."""
    access = _access(ctx, "henry")
    if "AmazonEC2ReadOnlyAccess" in access.attached:
        raise Fail("AmazonEC2ReadOnlyAccess is still attached to henry directly.")
    if "operators" not in access.groups:
        raise Fail("henry is not in a group named operators.")
    if "AmazonEC2ReadOnlyAccess" not in access.group_attached.get("operators", ()):
        raise Fail("The operators group does not have AmazonEC2ReadOnlyAccess attached.")


@check("users.6", points=1, hidden=True, hint="Only service users (svc-...) may keep policies of their own.")
def no_direct_policies(ctx: CheckContext) -> None:
    """No person in the company has a policy attached to them directly."""
    from labkit.account import all_user_access

    offenders = [a.user for a in all_user_access(ctx.client("iam")) if a.direct and not a.user.startswith("svc-")]
    if offenders:
        raise Fail(f"These users still have policies of their own: {', '.join(offenders)}.")
