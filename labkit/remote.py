"""The directory of principals for a lab whose account lives in a lab server (labkit.server).

Same questions as labkit.identity.Directory, answered through the administrator's API calls
to the server instead of moto's in-process backends. These calls bypass labkit's hooks: they
are labkit's own bookkeeping, not calls the learner made.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from labkit.identity import Caller, Directory, admin_credentials, compiled
from labkit.sessions import SessionStore

__all__ = ["RemoteDirectory"]


def _document(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict) else unquote(value)


class RemoteDirectory(Directory):
    """labkit.identity.Directory, over a lab server's API."""

    def __init__(self, account_ids: Iterable[str], sessions: SessionStore, endpoint: str, region: str) -> None:
        super().__init__(account_ids, sessions)
        self._endpoint = endpoint
        self._region = region
        self._clients: dict[str, Any] = {}

    def _iam(self, account_id: str) -> Any:
        return self.admin_client("iam", account_id)

    def admin_client(self, service: str, account_id: str, region: str | None = None) -> Any:
        """An administrator's client of the server for one account (not seen by the gate or trail)."""
        key_ = (service, account_id, region or self._region)
        if key_ not in self._clients:
            import botocore.session

            from labkit import interceptor

            core = botocore.session.Session()
            core.unregister("before-call", interceptor._before_call)
            core.unregister("after-call", interceptor._after_call)
            key, secret = admin_credentials(account_id)
            self._clients[key_] = core.create_client(
                service, region_name=region or self._region, endpoint_url=self._endpoint, aws_access_key_id=key, aws_secret_access_key=secret
            )
        return self._clients[key_]

    def resource_policy(self, arn: str, *, account_id: str, region: str, action: str | None = None) -> str | None:
        """Read the resource's policy through the administrator's API calls to the server."""
        from labkit.actions.resource_policies import TRUST_POLICY_ACTIONS

        parts = arn.split(":", 5)
        if len(parts) != 6:
            return None
        service, where, account, resource = parts[2], parts[3] or region, parts[4] or account_id, parts[5]
        if account not in self.account_ids:
            return None
        try:
            if service == "s3":
                return self.admin_client("s3", account).get_bucket_policy(Bucket=resource.split("/", 1)[0])["Policy"]
            if service == "iam" and resource.startswith("role/"):
                if action is not None and action not in TRUST_POLICY_ACTIONS:
                    return None
                return _document(self._iam(account).get_role(RoleName=resource.rsplit("/", 1)[-1])["Role"]["AssumeRolePolicyDocument"])
            if service == "sqs":
                sqs = self.admin_client("sqs", account, where)
                url = sqs.get_queue_url(QueueName=resource, QueueOwnerAWSAccountId=account)["QueueUrl"]
                return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
            if service == "sns":
                return self.admin_client("sns", account, where).get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy")
            if service == "kms":
                return self.admin_client("kms", account, where).get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
            if service == "lambda" and resource.startswith("function:"):
                from labkit.actions.resource_policies import aws_principals

                return aws_principals(self.admin_client("lambda", account, where).get_policy(FunctionName=arn)["Policy"])
        except (ClientError, BotoCoreError):  # no policy, no such resource: AWS consults none
            return None
        return None

    def resource_tags(self, arn: str, *, account_id: str, region: str) -> dict[str, str]:
        """Read the resource's tags through the administrator's API calls to the server."""
        parts = arn.split(":", 5)
        if len(parts) != 6:
            return {}
        service, where, account, resource = parts[2], parts[3] or region, parts[4] or account_id, parts[5]
        if account not in self.account_ids:
            return {}
        try:
            if service == "s3":
                bucket, _, key = resource.partition("/")
                s3 = self.admin_client("s3", account)
                tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] if key else s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
            elif service == "iam" and resource.startswith(("user/", "role/")):
                iam, name = self._iam(account), resource.rsplit("/", 1)[-1]
                tags = iam.list_user_tags(UserName=name)["Tags"] if resource.startswith("user/") else iam.list_role_tags(RoleName=name)["Tags"]
            elif service == "sns":
                tags = self.admin_client("sns", account, where).list_tags_for_resource(ResourceArn=arn)["Tags"]
            elif service == "kms":
                found = self.admin_client("kms", account, where).list_resource_tags(KeyId=arn)["Tags"]
                return {t["TagKey"]: t["TagValue"] for t in found}
            elif service == "lambda":
                return dict(self.admin_client("lambda", account, where).list_tags(Resource=arn)["Tags"])
            else:
                return {}
        except (ClientError, BotoCoreError):  # untagged, missing or not a single resource: no tags
            return {}
        return {t["Key"]: t["Value"] for t in tags}

    def _key_owner(self, access_key: str) -> Caller | None:
        for account in self.account_ids:
            iam = self._iam(account)
            try:
                name = iam.get_access_key_last_used(AccessKeyId=access_key)["UserName"]
                keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
            except iam.exceptions.ClientError:
                continue
            if any(k["AccessKeyId"] == access_key and k["Status"] == "Active" for k in keys):
                user = iam.get_user(UserName=name)["User"]
                return Caller("user", user["Arn"], account, name, user["UserId"], None, name)
            return None
        return None

    def role(self, role_arn: str) -> Any | None:
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or parts[4] not in self.account_ids or not parts[5].startswith("role/"):
            return None
        iam = self._iam(parts[4])
        try:
            role = iam.get_role(RoleName=parts[5].rsplit("/", 1)[-1])["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None
        if role["Arn"] != role_arn:
            return None
        return SimpleNamespace(
            name=role["RoleName"], id=role["RoleId"], path=role["Path"], arn=role["Arn"],
            max_session_duration=role.get("MaxSessionDuration", 3600),
        )

    def _policies(self, iam: Any, kind: str, name: str) -> list[Any]:
        key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        policies = []
        for policy_name in getattr(iam, f"list_{kind}_policies")(**{key: name})["PolicyNames"]:
            doc = getattr(iam, f"get_{kind}_policy")(**{key: name, "PolicyName": policy_name})["PolicyDocument"]
            policies.append(compiled(_document(doc), policy_name, kind))
        for attached in getattr(iam, f"list_attached_{kind}_policies")(**{key: name})["AttachedPolicies"]:
            policies.append(self._managed(iam, attached["PolicyArn"]))
        return policies

    @staticmethod
    def _managed(iam: Any, arn: str) -> Any:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        return compiled(_document(doc), arn, "aws-managed" if ":aws:policy/" in arn else "user-managed")

    def identity_policies(self, caller: Caller) -> list[Any]:
        iam = self._iam(caller.account_id)
        if caller.kind in ("user", "user-session", "federated-user") and caller.user_name:
            policies = self._policies(iam, "user", caller.user_name)
            for group in iam.list_groups_for_user(UserName=caller.user_name)["Groups"]:
                policies += self._policies(iam, "group", group["GroupName"])
            return policies
        if caller.kind == "assumed-role" and caller.role_arn:
            return self._policies(iam, "role", caller.role_arn.rsplit("/", 1)[-1])
        return []

    def permissions_boundary(self, caller: Caller) -> Any | None:
        iam = self._iam(caller.account_id)
        if caller.kind in ("user", "user-session", "federated-user") and caller.user_name:
            entity = iam.get_user(UserName=caller.user_name)["User"]
        elif caller.kind == "assumed-role" and caller.role_arn:
            entity = iam.get_role(RoleName=caller.role_arn.rsplit("/", 1)[-1])["Role"]
        else:
            return None
        arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        return self._managed(iam, arn) if arn else None

    def principal_tags(self, caller: Caller) -> dict[str, str]:
        iam = self._iam(caller.account_id)
        tags: list[dict[str, str]] = []
        if caller.kind in ("user", "user-session", "federated-user") and caller.user_name:
            tags = iam.list_user_tags(UserName=caller.user_name)["Tags"]
        elif caller.kind == "assumed-role" and caller.role_arn:
            tags = iam.list_role_tags(RoleName=caller.role_arn.rsplit("/", 1)[-1])["Tags"]
        result = {t["Key"]: t["Value"] for t in tags}
        if caller.session is not None:
            result.update(caller.session.tags)
        return result
