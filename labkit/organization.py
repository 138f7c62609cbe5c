"""The lab's AWS Organization, read from moto: which SCPs and RCPs apply to an account.

Learners change it with ordinary Organizations calls made as the management account's
administrator (create_policy, attach_policy, move_account ...); labkit reads moto's state at
each decision, so a new SCP takes effect on the next call.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OrganizationView", "enabled_policy_types"]


def enabled_policy_types(backend: Any) -> frozenset[str]:
    """The policy types enabled on the root of moto's organization ``backend`` (empty without one).

    AWS enables SCPs in the root when it creates an organization with all features (Organizations
    API reference, CreateOrganization); moto records no policy type then, so SCPs count as enabled
    for an all-features organization. Other types (RCPs among them) are enabled by EnablePolicyType.
    """
    if backend.org is None:
        return frozenset()
    root = next((ou for ou in backend.ou if getattr(ou, "type", None) == "ROOT"), None)
    recorded = {t["Type"] for t in getattr(root, "policy_types", [])}
    if backend.org.feature_set == "ALL":
        recorded.add("SERVICE_CONTROL_POLICY")
    return frozenset(recorded)


class OrganizationView:
    """SCP and RCP levels (root → OUs → account) for the accounts of one organization."""

    def __init__(self, management_account: str) -> None:
        self.management_account = management_account

    @property
    def _backend(self) -> Any:
        from moto.organizations.models import organizations_backends

        return organizations_backends[self.management_account]["aws"]

    @property
    def org_id(self) -> str | None:
        org = self._backend.org
        return org.id if org is not None else None

    def contains(self, account_id: str) -> bool:
        backend = self._backend
        return backend.org is not None and any(a.id == account_id for a in backend.accounts)

    def _levels(self, account_id: str, policy_type: str) -> tuple[tuple[Any, ...], ...]:
        from labkit.identity import compiled

        backend = self._backend
        if backend.org is None:
            return ()
        account = next((a for a in backend.accounts if a.id == account_id), None)
        if account is None:
            return ()
        chain = [account]
        parent_id = account.parent_id
        units = {ou.id: ou for ou in backend.ou}
        while parent_id in units:
            node = units[parent_id]
            chain.append(node)
            parent_id = getattr(node, "parent_id", None)
        levels = []
        for node in reversed(chain):  # root first
            levels.append(tuple(
                compiled(p.content, p.name, "none") for p in node.attached_policies if p.type == policy_type
            ))
        return tuple(levels)

    def scps(self, account_id: str) -> tuple[tuple[Any, ...], ...]:
        """The SCP levels that apply to principals of ``account_id`` (none outside the organization)."""
        return self._levels(account_id, "SERVICE_CONTROL_POLICY")

    def rcps(self, account_id: str) -> tuple[tuple[Any, ...], ...]:
        """The RCP levels that apply to resources of ``account_id``."""
        return self._levels(account_id, "RESOURCE_CONTROL_POLICY")
