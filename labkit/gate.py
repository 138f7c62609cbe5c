"""The lab's gate: decides each API call that reaches a lab account, before moto serves it, as AWS would.

Administrator calls pass. Calls made with a user's or a session's own credentials are decided
by labkit's policy engine against every policy AWS would consult (identity-based policies,
permissions boundary, session policies, the resource's policy, the organization's SCPs and
RCPs), with the request context AWS fills in, and refused with AWS's error code and message.
Unknown, inactive and expired credentials and wrong signatures are refused as AWS refuses them.
The gate runs where the account lives (labkit.host.account), on the call decoded from the
request, so every client is decided alike: boto3 in the kernel, another process, the AWS CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from labkit.actions import FREE_ACTIONS, Target, Unmapped, authorizations
from labkit.apis import ApiError, handler_for
from labkit.calls import Answer, ApiCall
from labkit.context import request_context
from labkit.identity import Caller, Directory

__all__ = ["LabGate", "CallRecord", "denial_message"]

_JSON_PROTOCOLS = {"json", "rest-json", "smithy-rpc-v2-cbor"}

# The messages AWS answers with for credentials it cannot accept.
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_MISSING_TOKEN = "Request is missing Authentication Token"
#: Services that serve unsigned requests, as the anonymous caller.
_ANONYMOUS_SERVICES = frozenset({"s3", "sqs"})
_BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. "
                  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")


def _denied_code(call: ApiCall) -> str:
    if call.protocol == "ec2":
        return "UnauthorizedOperation"
    return "AccessDeniedException" if call.protocol in _JSON_PROTOCOLS else "AccessDenied"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One API call made in a lab, as a trail records it."""

    time: datetime
    call: ApiCall
    caller: Caller | None
    action: str | None
    resource: str | None
    decision: str  # "allowed", "explicitDeny", "implicitDeny", or "unauthenticated"
    error_code: str | None
    error_message: str | None
    source_ip: str


#: Checks a request's signature with the secret key (and session token) of its access key.
Verifier = Callable[[str, "str | None"], "str | None"]


class LabGate:
    """Decides the calls that reach one lab account (labkit.host.account.LabAccount)."""

    def __init__(self, directory: Directory, account: Any) -> None:
        self.directory = directory
        self.lab = account  # the account: its clock, sessions, organization, trail, clients
        #: Called with a CallRecord once each call's outcome is known.
        self.listeners: list[Callable[[CallRecord], None]] = []

    def now(self) -> datetime:
        clock = getattr(self.lab, "clock", None)
        return clock.now() if clock is not None else datetime.now(timezone.utc)

    def handle(self, call: ApiCall, verify: Verifier | None = None) -> Answer | None:
        """An answer for ``call``, or None to let moto serve it (from ``call.state["route"]``'s account).

        ``verify(secret_key, session_token)`` returns None when the request's signature is right
        for those credentials, else the AWS error code to refuse it with.
        """
        if not call.access_key:
            return self._unsigned(call)
        found = self.directory.caller(call.access_key, now=self.now())
        if found is None:
            return self._finish(call, None, None, "unauthenticated", Answer.error(403, "InvalidClientTokenId", _INVALID_TOKEN))
        if found == "expired":
            return self._finish(call, None, None, "unauthenticated", Answer.error(403, "ExpiredToken", _EXPIRED_TOKEN))
        caller: Caller = found  # type: ignore[assignment]
        if verify is not None:
            secret, token = self.directory.secret(caller, call.access_key or "")
            problem = verify(secret, token)
            if problem is not None:
                message = _BAD_SIGNATURE if problem == "SignatureDoesNotMatch" else _INVALID_TOKEN
                return self._finish(call, None, None, "unauthenticated", Answer.error(403, problem, message))
        if call.service == "sts" and call.operation == "GetCallerIdentity":
            # Needs no permission; answered from labkit's own view of the caller.
            body = {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}
            return self._finish(call, caller, None, "allowed", Answer(200, body))
        target: Target | None = None
        if caller.kind == "admin":
            if call.service == "sts" and call.operation == "AssumeRole":
                message = "Roles may not be assumed by root accounts."
                return self._finish(call, caller, None, "explicitDeny", Answer.error(403, "AccessDenied", message))
        else:
            try:
                targets = authorizations(call, account_id=caller.account_id, region=call.region, caller_arn=caller.arn)
            except Unmapped as err:
                return self._finish(call, caller, None, "implicitDeny", Answer.error(403, _denied_code(call), str(err)))
            refusal = _session_limit(caller, targets)
            if refusal is not None:
                return self._finish(call, caller, None, "implicitDeny", Answer.error(403, "AccessDenied", refusal))
            for target in targets:
                if target.action in FREE_ACTIONS:
                    continue
                decision = self.decide(caller, target, call)
                if decision.result != "allowed":
                    message = denial_message(caller, target.action, target.resource, decision)
                    return self._finish(call, caller, target, decision.result, Answer.error(403, _denied_code(call), message))
        handler = handler_for(call.service, call.operation)
        call.state["caller"] = caller
        if handler is not None:
            try:
                answer = Answer(200, handler(call, self.lab))
            except ApiError as err:
                answer = Answer.error(err.status, err.code, err.message)
            return self._finish(call, caller, target, "allowed", answer)
        call.state["target"] = target
        # moto serves the call from the caller's account; a cross-account call AWS allowed is
        # served from the resource's account (per request: moto's x-moto-account-id header).
        route = caller.account_id
        if target is not None and target.resource_account and target.resource_account in self.directory.account_ids:
            route = target.resource_account
        call.state["route"] = route
        return None

    def _unsigned(self, call: ApiCall) -> Answer | None:
        """An unsigned request. S3 and SQS take it from the anonymous caller, whom only the
        resource's policy can allow ("Principal": "*"); SCPs do not apply to it, RCPs do
        (reference_policies_elements_principal.md, "Anonymous principals"; Organizations User
        Guide, SCPs "don't affect ... anonymous" requests, RCPs apply to them). Other services
        refuse it for want of credentials."""
        if call.service not in _ANONYMOUS_SERVICES:
            code = "MissingAuthenticationTokenException" if call.protocol in _JSON_PROTOCOLS else "MissingAuthenticationToken"
            return self._finish(call, None, None, "unauthenticated", Answer.error(403, code, _MISSING_TOKEN))
        home = self.directory.account_ids[0]
        try:
            targets = authorizations(call, account_id=home, region=call.region, caller_arn=None)
        except Unmapped as err:
            return self._finish(call, None, None, "implicitDeny", Answer.error(403, _denied_code(call), str(err)))
        target: Target | None = None
        for target in targets:
            if target.action in FREE_ACTIONS:
                continue
            if self.decide_anonymous(target, call).result != "allowed":
                # S3 tells an anonymous caller no more than this (Amazon S3 API Reference, Error responses).
                message = "Access Denied" if call.service == "s3" else (
                    f"User: anonymous is not authorized to perform: {target.action} on resource: {target.resource}")
                return self._finish(call, None, target, "implicitDeny", Answer.error(403, _denied_code(call), message))
        route = home
        if target is not None and target.resource_account in self.directory.account_ids:
            route = target.resource_account
        call.state.update(route=route, caller=None, target=target)
        return None

    def decide_anonymous(self, target: Target, call: ApiCall) -> Any:
        """The engine's decision for the anonymous caller: the resource's policy and the RCPs."""
        from labkit.policy import Request, evaluate

        account = target.resource_account or self.directory.account_ids[0]
        now = self.now()
        context = {"aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(now.timestamp())),
                   "aws:SecureTransport": "true", "aws:SourceIp": call.source_ip, "aws:RequestedRegion": call.region,
                   **target.context}
        organization = getattr(self.lab, "organization", None)
        policy_text = self.directory.resource_policy(target.resource, account_id=account, region=call.region,
                                                     action=target.action)
        return evaluate(
            Request(target.action, target.resource, None, account, context),
            resource_policy=_resource_policy(policy_text),
            rcps=organization.rcps(account) if organization is not None else (),
            management_account=organization.management_account if organization is not None else None,
        )

    def complete(self, call: ApiCall, error: dict[str, Any]) -> None:
        """After moto served a call the gate let through: record its outcome (``error``: Code and Message, if any)."""
        if self.listeners and "caller" in call.state:
            self._notify(call, call.state["caller"], call.state.get("target"), "allowed", error)

    def _finish(self, call: ApiCall, caller: Caller | None, target: Target | None, decision: str, answer: Answer) -> Answer:
        if self.listeners:
            self._notify(call, caller, target, decision, answer.error_fields)
        return answer

    def _notify(self, call: ApiCall, caller: Caller | None, target: Target | None, decision: str, error: dict[str, Any]) -> None:
        record = CallRecord(
            time=self.now(),
            call=call,
            caller=caller,
            action=target.action if target else None,
            resource=target.resource if target else None,
            decision=decision,
            error_code=error.get("Code"),
            error_message=error.get("Message"),
            source_ip=call.source_ip,
        )
        for listener in self.listeners:
            listener(record)

    def decide(self, caller: Caller, target: Target, call: ApiCall | None = None) -> Any:
        """The engine's decision for ``caller`` doing ``target``, with every policy AWS consults."""
        from labkit.policy import Request, evaluate

        directory = self.directory
        session = caller.session
        resource_account = target.resource_account or caller.account_id
        context = request_context(self, caller, target, call)
        boundary = directory.permissions_boundary(caller)
        organization = getattr(self.lab, "organization", None)
        scps = organization.scps(caller.account_id) if organization is not None else ()
        rcps = organization.rcps(resource_account) if organization is not None else ()
        region = call.region if call else "us-east-1"
        policy_text = directory.resource_policy(target.resource, account_id=resource_account, region=region, action=target.action)
        request = Request(
            target.action,
            target.resource,
            caller.arn,
            resource_account,
            context,
            role_path=session.role_path if session is not None else None,
            federated_by=session.federated_by if session is not None else None,
        )
        return evaluate(
            request,
            identity_policies=directory.identity_policies(caller),
            resource_policy=_resource_policy(policy_text),
            permissions_boundaries=(boundary,) if boundary is not None else (),
            scps=scps,
            rcps=rcps,
            session_policy=session.session_policies[0] if session is not None and session.session_policies else None,
            management_account=organization.management_account if organization is not None else None,
        )


def _session_limit(caller: Caller, targets: list[Target]) -> str | None:
    """What GetSessionToken credentials may not do, whatever the policies say.

    id_credentials_temp_request.md: they "cannot call IAM API operations unless MFA information is
    included with the request", nor "AWS STS API operations except AssumeRole or GetCallerIdentity".
    """
    if caller.kind != "user-session" or caller.session is None:
        return None
    for target in targets:
        service = target.action.split(":", 1)[0].lower()
        if service == "iam" and caller.session.mfa_time is None:
            return (f"User: {caller.arn} is not authorized to perform: {target.action} on resource: {target.resource}: "
                    "credentials from GetSessionToken cannot call IAM unless MFA was presented when they were issued")
        if service == "sts" and target.action.lower() not in ("sts:assumerole", "sts:getcalleridentity"):
            return (f"User: {caller.arn} is not authorized to perform: {target.action} on resource: {target.resource}: "
                    "credentials from GetSessionToken can only call AssumeRole and GetCallerIdentity in STS")
    return None


def _resource_policy(text: str | None) -> Any:
    if not text:
        return None
    from labkit.errors import MalformedPolicyDocument
    from labkit.identity import compiled

    try:
        return compiled(text, "resource policy", "resource")
    except MalformedPolicyDocument:
        # AWS refuses such a policy when it is put; moto may have stored it. It grants nothing.
        return None


_EXPLICIT = {
    "identity": "an identity-based policy",
    "resource": "a resource-based policy",
    "boundary": "a permissions boundary",
    "scp": "a service control policy",
    "rcp": "a resource control policy",
    "session": "a session policy",
}
_IMPLICIT = {
    "identity": "identity-based policy",
    "resource": "resource-based policy",
    "boundary": "permissions boundary",
    "scp": "service control policy",
    "rcp": "resource control policy",
    "session": "session policy",
}


def denial_message(caller: Caller, action: str, resource: str, decision: Any) -> str:
    """AWS's wording for an access denied error, naming the kind of policy that refused."""
    head = f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}"
    layer = getattr(decision, "decided_by", None) or "identity"
    if decision.result == "explicitDeny":
        return f"{head} with an explicit deny in {_EXPLICIT.get(layer, _EXPLICIT['identity'])}"
    return f"{head} because no {_IMPLICIT.get(layer, _IMPLICIT['identity'])} allows the {action} action"
