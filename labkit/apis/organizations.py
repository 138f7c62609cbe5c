"""Organizations where moto answers differently from AWS: attaching a policy of a type the root has not enabled.

moto attaches a resource control policy to any target even before RESOURCE_CONTROL_POLICY is
enabled in the root; AWS refuses with PolicyTypeNotEnabledException (Organizations API
reference, AttachPolicy) and changes nothing. labkit checks first, then lets moto's backend
attach the policy as it would.
"""

from __future__ import annotations

from typing import Any

from labkit.apis import ApiError, api
from labkit.organization import enabled_policy_types

__all__: list[str] = []

#: The message Organizations returns with PolicyTypeNotEnabledException (moto raises it with the same words).
POLICY_TYPE_NOT_ENABLED = "This operation can be performed only for enabled policy types."


def _moto_errors(action: Any) -> Any:
    """Run ``action`` on moto's backend, answering moto's Organizations errors as AWS's."""
    from moto.organizations.exceptions import OrganizationsClientError

    try:
        return action()
    except OrganizationsClientError as err:
        raise ApiError(err.code, err.message) from None


@api("organizations", "AttachPolicy")
def attach_policy(call: Any, lab: Any) -> dict[str, Any]:
    from moto.organizations.models import organizations_backends

    params = call.params
    backend = organizations_backends[call.state["caller"].account_id]["aws"]
    if backend.org is None:
        raise ApiError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
    policy = _moto_errors(lambda: backend.get_policy_by_id(params["PolicyId"]))
    if policy.type not in enabled_policy_types(backend):
        raise ApiError("PolicyTypeNotEnabledException", POLICY_TYPE_NOT_ENABLED)
    _moto_errors(lambda: backend.attach_policy(PolicyId=params["PolicyId"], TargetId=params["TargetId"]))
    return {}
