"""Amazon EC2: resources from their ids, RunInstances' several resources, tag-on-create, passing roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labkit.actions.mapping import Request, Rules, Value, wildcard_arn
from labkit.actions.model import Target
from labkit.actions.state import instance_profile_roles
from labkit.actions.tags import tag_dict

__all__ = ["RULES"]


def _nested(req: Request, outer: str, inner: str) -> Value:
    value = req.params.get(outer)
    found = value.get(inner) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) and found else None


def _placement_group(req: Request) -> Value:
    if "PlacementGroup" in req.operation:
        name = req.params.get("GroupName") or req.params.get("GroupNames")
        return name if name else None
    return _nested(req, "Placement", "GroupName")


def _security_groups(req: Request) -> Value:
    return req.params.get("GroupId") or req.params.get("GroupIds") or req.params.get("SecurityGroupIds") or None


_VARIABLES = {
    "NaclId": lambda req: req.params.get("NetworkAclId"),
    "KeyPairName": lambda req: req.params.get("KeyName"),
    "SecurityGroupId": _security_groups,
    "PlacementGroupName": _placement_group,
    "LaunchTemplateId": lambda req: req.params.get("LaunchTemplateId") or _nested(req, "LaunchTemplate", "LaunchTemplateId"),
    "GroupName": lambda req: None,  # resource-groups groups, which EC2 calls never name
}

_CONTEXT = {
    # ec2: condition key -> (parameter, key within it) where the names differ
    "ec2:VolumeSize": ("Size", None),
    "ec2:VolumeIops": ("Iops", None),
    "ec2:VolumeThroughput": ("Throughput", None),
    "ec2:KeyPairName": ("KeyName", None),
    "ec2:Tenancy": ("Placement", "Tenancy"),
    "ec2:MetadataHttpTokens": ("MetadataOptions", "HttpTokens"),
    "ec2:MetadataHttpEndpoint": ("MetadataOptions", "HttpEndpoint"),
    "ec2:MetadataHttpPutResponseHopLimit": ("MetadataOptions", "HttpPutResponseHopLimit"),
    "ec2:InstanceMarketType": ("InstanceMarketOptions", "MarketType"),
}


def _context(req: Request, action: str) -> dict[str, Any]:
    context: dict[str, Any] = {"ec2:Region": req.region}
    for key, (param, inner) in _CONTEXT.items():
        value = req.params.get(param)
        if inner is not None:
            value = value.get(inner) if isinstance(value, Mapping) else None
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            context[key] = str(value)
    zone = _nested(req, "Placement", "AvailabilityZone")
    if zone:
        context["ec2:AvailabilityZone"] = zone
    profile = req.params.get("IamInstanceProfile")
    if isinstance(profile, Mapping) and isinstance(profile.get("Arn"), str):
        context["ec2:InstanceProfile"] = profile["Arn"]
    return context


def _tag_on_create(req: Request) -> list[Target]:
    """Tags given at creation (TagSpecifications) also need ec2:CreateTags on each tagged resource,
    with ``ec2:CreateAction`` naming the creating operation (EC2 User Guide, "Grant permission to
    tag Amazon EC2 resources during creation")."""
    specs = req.params.get("TagSpecifications")
    if not isinstance(specs, list) or req.operation == "CreateTags":
        return []
    from labkit.policy import catalog

    cleared = {k: None for k in req.base_context() if k.startswith("aws:RequestTag/")}
    targets: list[Target] = []
    for spec in specs:
        if not isinstance(spec, Mapping):
            continue
        rtype = catalog.resource_type("ec2", str(spec.get("ResourceType", "")))
        tags = tag_dict(spec.get("Tags", [])) or {}
        if rtype is None or not tags:
            continue
        context = {**cleared, **{f"aws:RequestTag/{k}": v for k, v in tags.items()},
                   "aws:TagKeys": tuple(tags), "ec2:CreateAction": req.operation}
        targets += req.targets("ec2:CreateTags", resources=[wildcard_arn(rtype.arn, req)], context=context)
    return targets


# Keys describing the resource a call creates or launches, not the others it uses.
_KEY_TYPES = {
    **{k: "volume" for k in ("ec2:VolumeSize", "ec2:VolumeIops", "ec2:VolumeThroughput", "ec2:VolumeType", "ec2:Encrypted")},
    **{k: "instance" for k in ("ec2:InstanceType", "ec2:Tenancy", "ec2:MetadataHttpTokens", "ec2:MetadataHttpEndpoint",
                               "ec2:MetadataHttpPutResponseHopLimit", "ec2:InstanceMarketType", "ec2:InstanceProfile")},
    "ec2:KeyPairName": "key-pair",
    "ec2:ImageID": "image",
}

RULES = {"ec2": Rules("ec2", variables=_VARIABLES, context=_context, extra=_tag_on_create, key_types=_KEY_TYPES)}
_rules = RULES["ec2"]


def _pass_role(req: Request, profile: Any) -> list[Target]:
    """Launching or associating an instance profile passes its role: iam:PassRole, with
    ``iam:PassedToService`` ec2.amazonaws.com (IAM User Guide, id_roles_use_switch-role-ec2)."""
    if not isinstance(profile, Mapping):
        return []
    ref = profile.get("Arn") or profile.get("Name")
    roles = instance_profile_roles(ref, req.account) if isinstance(ref, str) else []
    resources = roles or [f"arn:aws:iam::{req.account}:role/*"]
    context = {"iam:PassedToService": "ec2.amazonaws.com"}
    return [t for arn in resources for t in req.targets("iam:PassRole", resources=[arn], context=context)]


@_rules.handler("RunInstances")
def _run_instances(req: Request) -> list[Target]:
    """RunInstances is authorized on the instance, image, network interface, security groups,
    subnet and root volume it uses (``volume/*``; optional in the reference, as instance-store
    AMIs have none), plus key pair, placement group and launch template when named."""
    from labkit.policy import catalog

    targets = req.targets("ec2:RunInstances")
    volume = catalog.resource_type("ec2", "volume")
    if volume is not None:
        targets += req.targets("ec2:RunInstances", resources=[wildcard_arn(volume.arn, req)])
    return targets + _pass_role(req, req.params.get("IamInstanceProfile"))


@_rules.handler("AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation")
def _associate_profile(req: Request) -> list[Target]:
    targets = req.targets(f"ec2:{req.operation}", wildcard=req.operation.startswith("Replace"))
    return targets + _pass_role(req, req.params.get("IamInstanceProfile"))


_ID_TYPES = {
    "i": "instance", "vol": "volume", "snap": "snapshot", "ami": "image", "sg": "security-group",
    "subnet": "subnet", "vpc": "vpc", "eni": "network-interface", "igw": "internet-gateway",
    "rtb": "route-table", "acl": "network-acl", "nat": "natgateway", "eipalloc": "elastic-ip",
    "dopt": "dhcp-options", "vpce": "vpc-endpoint", "pcx": "vpc-peering-connection", "lt": "launch-template",
    "tgw": "transit-gateway", "cgw": "customer-gateway", "vgw": "vpn-gateway", "vpn": "vpn-connection",
    "eigw": "egress-only-internet-gateway", "sgr": "security-group-rule", "fl": "vpc-flow-log",
    "pl": "prefix-list", "cr": "capacity-reservation", "fleet": "fleet", "sir": "spot-instances-request",
    "h": "dedicated-host",
}


@_rules.handler("CreateTags", "DeleteTags")
def _tags(req: Request) -> list[Target]:
    """Tagging is authorized on each resource named, whatever its type (its id prefix tells)."""
    from labkit.policy import catalog

    resources = []
    for resource_id in req.params.get("Resources") or []:
        kind = _ID_TYPES.get(str(resource_id).split("-", 1)[0])
        rtype = catalog.resource_type("ec2", kind) if kind else None
        if rtype is None:
            raise req.unmapped(f"cannot tell the resource type of {resource_id!r}")
        resources.append(wildcard_arn(rtype.arn, req).replace("*", str(resource_id)))
    if not resources:
        raise req.unmapped("no Resources")
    return req.targets(f"ec2:{req.operation}", resources=resources)
