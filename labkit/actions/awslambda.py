"""AWS Lambda: functions named by name, ARN or partial ARN (with qualifiers), and the role a function gets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labkit.actions.mapping import Request, Rules, Value
from labkit.actions.model import Target

__all__ = ["RULES"]


def _function_ref(req: Request) -> tuple[str, str | None] | None:
    """(name, qualifier) from FunctionName, which may be ``name``, ``name:qualifier``, an ARN or a
    partial ARN (``123456789012:function:name``), with the Qualifier parameter winning."""
    value = req.params.get("FunctionName")
    if not isinstance(value, str) or not value:
        return None
    if ":function:" in value:
        value = value.split(":function:", 1)[1]
    name, _, qualifier = value.partition(":")
    given = req.params.get("Qualifier")
    return name, given if isinstance(given, str) and given else qualifier or None


def _function(req: Request) -> Value:
    """The function, qualified (``name:1``, ``name:prod``) when the call names a version or alias:
    Lambda then authorizes the version's or alias's ARN (lambda-api-permissions-ref)."""
    ref = _function_ref(req)
    if ref is None:
        return None
    name, qualifier = ref
    return f"{name}:{qualifier}" if qualifier else name


def _layer(req: Request) -> Value:
    value = req.params.get("LayerName")
    if isinstance(value, str) and ":layer:" in value:
        return value.split(":layer:", 1)[1].split(":", 1)[0]
    return value if isinstance(value, str) and value else None


def _context(req: Request, action: str) -> dict[str, Any]:
    params = req.params
    context: dict[str, Any] = {}
    ref = _function_ref(req)
    if ref is not None:
        context["lambda:FunctionArn"] = f"arn:aws:lambda:{req.region}:{req.account}:function:{ref[0]}"
    layers = params.get("Layers")
    if isinstance(layers, list) and layers:
        context["lambda:Layer"] = tuple(str(layer) for layer in layers)
    vpc = params.get("VpcConfig")
    if isinstance(vpc, Mapping):
        for param, key in (("SubnetIds", "lambda:SubnetIds"), ("SecurityGroupIds", "lambda:SecurityGroupIds")):
            if vpc.get(param):
                context[key] = tuple(vpc[param])
    return context


RULES = {
    "lambda": Rules(
        "lambda",
        variables={
            "FunctionName": _function,
            "LayerName": _layer,
            "LayerVersion": lambda req: str(req.params["VersionNumber"]) if "VersionNumber" in req.params else None,
            "Alias": lambda req: None,  # a qualifier is part of FunctionName's value (see _function)
            "Version": lambda req: None,
        },
        context=_context,
    )
}
_rules = RULES["lambda"]


@_rules.handler("CreateFunction", "UpdateFunctionConfiguration")
def _with_role(req: Request) -> list[Target]:
    """Giving a function its execution role passes the role: iam:PassRole on it, with
    ``iam:PassedToService`` lambda.amazonaws.com (Lambda Developer Guide, lambda-intro-execution-role)."""
    targets = req.targets(f"lambda:{req.operation}")
    role = req.params.get("Role")
    if isinstance(role, str) and role.startswith("arn:"):
        targets += req.targets("iam:PassRole", resources=[role], context={"iam:PassedToService": "lambda.amazonaws.com"})
    return targets
