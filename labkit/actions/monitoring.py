"""CloudWatch Logs and CloudWatch: log groups as AWS authorizes them, alarms, dashboards and metrics."""

from __future__ import annotations

import re
from collections.abc import Callable

from labkit.actions.mapping import Request, Rules, Value

__all__ = ["RULES"]


def _log_group(req: Request) -> Value:
    for param in ("logGroupName", "logGroupIdentifier", "sourceLogGroupName"):
        value = req.params.get(param)
        if isinstance(value, str) and value:
            return value.split(":log-group:", 1)[1].removesuffix(":*") if ":log-group:" in value else value
    names = req.params.get("logGroupNames") or req.params.get("logGroupIdentifiers")
    if isinstance(names, list) and names:
        return [n.split(":log-group:", 1)[-1].removesuffix(":*") for n in names if isinstance(n, str)]
    return None


_BARE_GROUP = re.compile(r":log-group:[^:]+$")
# "Use the first version [of the log group ARN], without the trailing :*" for these; all other
# actions are authorized on "log-group:<name>:*" (CloudWatch Logs User Guide,
# iam-access-control-overview-cwl), where AWS's denials name "log-group:<name>:log-stream:".
_BARE_ARN_OPERATIONS = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})


def _log_group_arn(req: Request, arn: str) -> str:
    if req.operation not in _BARE_ARN_OPERATIONS and _BARE_GROUP.search(arn):
        return arn + ":log-stream:"
    return arn


def _names(*params: str) -> Callable[[Request], Value]:
    """A resolver taking the first of ``params`` the call gives (a name or a list of names)."""

    def resolve(req: Request) -> Value:
        for param in params:
            value = req.params.get(param)
            if isinstance(value, str) and value or isinstance(value, list) and value:
                return value
        return None

    return resolve


def _alarms(req: Request) -> Value:
    """The alarms named; a Describe call naming none lists them all: ``alarm:*``."""
    return _names("AlarmName", "AlarmNames")(req) or ("*" if req.operation.startswith("Describe") else None)


RULES = {
    "logs": Rules(
        "logs",
        variables={
            "LogGroupName": _log_group,
            "DestinationName": _names("destinationName"),
        },
        rewrite=_log_group_arn,
    ),
    "cloudwatch": Rules(
        "cloudwatch",
        variables={
            "AlarmName": _alarms,
            "InsightRuleName": _names("RuleName", "RuleNames"),
            "MetricStreamName": _names("Name", "Names"),
        },
    ),
}
