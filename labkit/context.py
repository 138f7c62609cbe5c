"""The request context AWS fills in for a call: the condition keys policies can test."""

from __future__ import annotations

from typing import Any

__all__ = ["request_context", "DEFAULT_SOURCE_IP"]

#: Where lab calls come from unless a session says otherwise (a documentation address, RFC 5737).
DEFAULT_SOURCE_IP = "198.51.100.10"


def _is_s3_object(arn: str) -> bool:
    return arn.startswith("arn:aws:s3:::") and "/" in arn


def request_context(gate: Any, caller: Any, target: Any, call: Any) -> dict[str, Any]:
    """Global keys (reference_policies_condition-keys.md) plus the target's service keys.

    aws:username, aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalType follow from the
    caller's ARN and are filled in by the engine itself.
    """
    now = gate.now()
    context: dict[str, Any] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true",
        "aws:userid": caller.user_id,
    }
    if call is not None:
        context["aws:SourceIp"] = call.source_ip
        context["aws:RequestedRegion"] = call.region
    for key, value in gate.directory.principal_tags(caller).items():
        context[f"aws:PrincipalTag/{key}"] = value
    session = caller.session
    if session is not None:
        # Temporary credentials carry the MFA state they were issued with; long-term keys carry
        # none, so the keys are absent for them (id_credentials_mfa_configure-api-require.md).
        context["aws:MultiFactorAuthPresent"] = "true" if session.mfa_time is not None else "false"
        if session.mfa_time is not None:
            context["aws:MultiFactorAuthAge"] = str(max(0, int((now - session.mfa_time).total_seconds())))
        if session.source_identity:
            context["aws:SourceIdentity"] = session.source_identity
        if session.issued is not None:
            # Present only for temporary credentials (reference_policies_condition-keys.md,
            # aws:TokenIssueTime); "Revoke active sessions" denies with DateLessThan on it
            # (id_roles_use_revoke-sessions.md).
            context["aws:TokenIssueTime"] = session.issued.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif call is not None and call.service == "sts" and call.params.get("TokenCode"):
        # Long-term keys plus a valid MFA code in the AssumeRole call itself (the trust policy
        # can require it with aws:MultiFactorAuthPresent).
        from labkit.apis.sts import mfa_verified

        if mfa_verified(gate.lab, caller, call.params):
            context["aws:MultiFactorAuthPresent"] = "true"
            context["aws:MultiFactorAuthAge"] = "0"
    organization = getattr(gate.lab, "organization", None)
    if organization is not None and organization.contains(caller.account_id):
        context["aws:PrincipalOrgID"] = organization.org_id
    if target.resource not in ("*", ""):
        region = call.region if call is not None else "us-east-1"
        account = target.resource_account or caller.account_id
        # An S3 object's tags are tested with s3:ExistingObjectTag/<key>, not aws:ResourceTag
        # (Amazon S3 User Guide, "Tagging and access control policies").
        prefix = "s3:ExistingObjectTag" if _is_s3_object(target.resource) else "aws:ResourceTag"
        for key, value in gate.directory.resource_tags(target.resource, account_id=account, region=region).items():
            context[f"{prefix}/{key}"] = value
    context.update(target.context)
    return context
