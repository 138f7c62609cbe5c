"""STS as AWS runs it: real temporary credentials, session policies, MFA, expiry.

moto hands out fixed example credentials for GetSessionToken and GetFederationToken that
authenticate nothing, and keeps no MFA state; labkit issues the credentials itself and
remembers what each session may do (labkit.sessions).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from labkit.apis import ApiError, api
from labkit.errors import MalformedPolicyDocument
from labkit.sessions import Session, new_key_id, new_secret, verify_totp

__all__ = ["mfa_device_seed", "mfa_verified"]


def mfa_device_seed(lab: Any, account_id: str, user_name: str | None, serial: str) -> str | None:
    """The seed of an MFA device enabled for ``user_name``, or None if it is not theirs."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    user = iam.users.get(user_name) if user_name else None
    if user is None or serial not in user.mfa_devices:
        return None
    device = iam.virtual_mfa_devices.get(serial)
    return getattr(device, "base32_string_seed", None)


def mfa_verified(lab: Any, caller: Any, params: dict[str, Any]) -> bool | None:
    """None when the call presents no MFA; else whether its SerialNumber and TokenCode are valid."""
    serial, code = params.get("SerialNumber"), params.get("TokenCode")
    if not serial and not code:
        return None
    if not serial or not code or caller.kind not in ("user",):
        return False
    seed = mfa_device_seed(lab, caller.account_id, caller.user_name, serial)
    return seed is not None and verify_totp(seed, code)


def _refuse_bad_mfa(lab: Any, caller: Any, params: dict[str, Any]) -> bool:
    verified = mfa_verified(lab, caller, params)
    if verified is False:
        raise ApiError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ", status=403)
    return bool(verified)


def _duration(params: dict[str, Any], default: int, low: int, high: int) -> int:
    seconds = params.get("DurationSeconds", default)
    if not low <= seconds <= high:
        raise ApiError(
            "ValidationError",
            f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: "
            f"Member must have value {'less' if seconds > high else 'greater'} than or equal to {high if seconds > high else low}",
        )
    return seconds


def _session_policy(lab: Any, params: dict[str, Any], account_id: str) -> tuple[Any, ...]:
    """The session policies passed to the call (Policy and PolicyArns), merged into one."""
    from moto.iam.models import iam_backends

    from labkit.identity import compiled

    statements: list[Any] = []
    if params.get("Policy") is not None:
        try:
            document = json.loads(params["Policy"])
            compiled(params["Policy"], "session policy", "none")
        except (ValueError, MalformedPolicyDocument) as err:
            raise ApiError("MalformedPolicyDocument", f"The policy is not in the valid JSON format. ({err})") from None
        body = document.get("Statement", []) if isinstance(document, dict) else []
        statements += body if isinstance(body, list) else [body]
    for item in params.get("PolicyArns") or []:
        arn = item.get("arn", "")
        policy = iam_backends[account_id]["aws"].managed_policies.get(arn)
        if policy is None:
            raise ApiError("InvalidParameterValue", f"Policy {arn} does not exist or is not attachable.")
        version = next(v for v in policy.versions if v.is_default)
        body = json.loads(version.document).get("Statement", [])
        statements += body if isinstance(body, list) else [body]
    if params.get("Policy") is None and not params.get("PolicyArns"):
        return ()
    merged = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return (compiled(merged, "session policy", "none"),)


#: STS's message for a chained role session asked for more than an hour.
_CHAINING_LIMIT = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."


def _session_tags(params: dict[str, Any], inherited: dict[str, str]) -> tuple[dict[str, str], frozenset[str]]:
    """The new session's tags and which of them are transitive (id_session-tags.md, "Chaining
    roles with session tags"): only the caller's transitive tags pass on, and stay transitive;
    the other session tags end with their session. Passing a tag whose key an inherited tag
    already has fails, and a transitive key must name a tag passed in the same call."""
    passed = {t["Key"]: t["Value"] for t in params.get("Tags") or []}
    keys = list(params.get("TransitiveTagKeys") or [])
    taken = {k.lower() for k in inherited}
    clash = next((k for k in passed if k.lower() in taken), None)
    if clash is not None:
        raise ApiError("InvalidParameterValue", f"The session tag key {clash} is already inherited as a transitive tag in this role chain.")
    unknown = next((k for k in keys if k not in passed), None)
    if unknown is not None:
        raise ApiError("InvalidParameterValue", f"The transitive tag key {unknown} is not a session tag passed in this request.")
    return {**inherited, **passed}, frozenset(inherited) | frozenset(keys)


def _issue(lab: Any, session: Session) -> dict[str, Any]:
    lab.sessions.add(session)
    return {
        "AccessKeyId": session.access_key,
        "SecretAccessKey": session.secret_key,
        "SessionToken": session.token,
        "Expiration": session.expires,
    }


def _fresh_credentials() -> dict[str, str]:
    return {"access_key": new_key_id("ASIA"), "secret_key": new_secret(), "token": new_secret(356)}


def _now(lab: Any) -> datetime:
    return lab.gate.now()


@api("sts", "AssumeRole")
def assume_role(call: Any, lab: Any) -> dict[str, Any]:
    caller, params = call.state["caller"], call.params
    role = lab.directory.role(params["RoleArn"])
    if role is None:  # the gate found no trust policy to allow this; kept for safety
        raise ApiError("AccessDenied", f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {params['RoleArn']}", status=403)
    mfa = _refuse_bad_mfa(lab, caller, params)
    chained = caller.kind == "assumed-role"
    if chained and params.get("DurationSeconds", 3600) > 3600:
        # id_roles_terms-and-concepts.md (role chaining): "if you assume a role using role chaining
        # and provide a DurationSeconds parameter value greater than one hour, the operation fails".
        raise ApiError("ValidationError", _CHAINING_LIMIT)
    seconds = _duration(params, 3600, 900, int(role.max_session_duration or 3600))
    now = _now(lab)
    account_id = params["RoleArn"].split(":")[4]
    name = params["RoleSessionName"]
    inherited = caller.session.transitive_tags() if chained and caller.session is not None else {}
    tags, transitive = _session_tags(params, inherited)
    session = Session(
        **_fresh_credentials(),
        kind="assumed-role",
        arn=f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{name}",
        account_id=account_id,
        name=name,
        user_id=f"{role.id}:{name}",
        expires=now + timedelta(seconds=seconds),
        role_arn=role.arn,
        role_path=role.path,
        session_policies=_session_policy(lab, params, account_id),
        mfa_time=now if mfa else (caller.session.mfa_time if chained and caller.session else None),
        tags=tags,
        transitive_tag_keys=transitive,
        source_identity=params.get("SourceIdentity"),
        issued=now,
    )
    body: dict[str, Any] = {
        "Credentials": _issue(lab, session),
        "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn},
        "PackedPolicySize": 0,
    }
    if session.source_identity:
        body["SourceIdentity"] = session.source_identity
    return body


@api("sts", "GetSessionToken")
def get_session_token(call: Any, lab: Any) -> dict[str, Any]:
    caller, params = call.state["caller"], call.params
    if caller.kind not in ("user", "admin"):
        raise ApiError("AccessDenied", "Cannot call GetSessionToken with session credentials", status=403)
    mfa = _refuse_bad_mfa(lab, caller, params)
    seconds = _duration(params, 43200, 900, 3600 if caller.kind == "admin" else 129600)
    now = _now(lab)
    session = Session(
        **_fresh_credentials(),
        kind="user-session" if caller.kind == "user" else "admin-session",
        arn=caller.arn,
        account_id=caller.account_id,
        name=caller.name,
        user_id=caller.user_id,
        expires=now + timedelta(seconds=seconds),
        user_name=caller.user_name,
        mfa_time=now if mfa else None,
        issued=now,
    )
    return {"Credentials": _issue(lab, session)}


@api("sts", "GetFederationToken")
def get_federation_token(call: Any, lab: Any) -> dict[str, Any]:
    caller, params = call.state["caller"], call.params
    if caller.kind != "user":
        raise ApiError("AccessDenied", "Cannot call GetFederationToken with session credentials", status=403)
    seconds = _duration(params, 43200, 900, 129600)
    now = _now(lab)
    name = params["Name"]
    session = Session(
        **_fresh_credentials(),
        kind="federated-user",
        arn=f"arn:aws:sts::{caller.account_id}:federated-user/{name}",
        account_id=caller.account_id,
        name=name,
        user_id=f"{caller.account_id}:{name}",
        expires=now + timedelta(seconds=seconds),
        user_name=caller.user_name,
        federated_by=caller.arn,
        session_policies=_session_policy(lab, params, caller.account_id),
        tags={t["Key"]: t["Value"] for t in params.get("Tags") or []},
        issued=now,
    )
    return {
        "Credentials": _issue(lab, session),
        "FederatedUser": {"FederatedUserId": session.user_id, "Arn": session.arn},
        "PackedPolicySize": 0,
    }


@api("iam", "EnableMFADevice")
def enable_mfa_device(call: Any, lab: Any) -> dict[str, Any]:
    """AWS checks two consecutive codes from the device before enabling it; moto checks none."""
    from moto.iam.models import iam_backends

    params = call.params
    account_id = call.state["caller"].account_id
    iam = iam_backends[account_id]["aws"]
    if params["UserName"] not in iam.users:
        raise ApiError("NoSuchEntity", f"The user with name {params['UserName']} cannot be found.", status=404)
    device = iam.virtual_mfa_devices.get(params["SerialNumber"])
    seed = getattr(device, "base32_string_seed", None)
    first, second = params["AuthenticationCode1"], params["AuthenticationCode2"]
    if seed is None or not verify_totp(seed, first) or not verify_totp(seed, second) or first == second:
        raise ApiError("InvalidAuthenticationCode", "Authentication code for device is not valid.", status=403)
    iam.enable_mfa_device(params["UserName"], params["SerialNumber"], first, second)
    return {}
