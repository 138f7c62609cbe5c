"""labkit's IAM policy engine: parse policies once, decide requests fast, explain on demand."""

from typing import Any

from labkit.policy.decision import Decision, MatchedStatement, Remedy
from labkit.policy.document import Policy
from labkit.policy.engine import evaluate
from labkit.policy.request import Request
from labkit.policy.simulator import condition_keys, simulate

__all__ = [
    "Policy",
    "Request",
    "Decision",
    "MatchedStatement",
    "Remedy",
    "evaluate",
    "condition_keys",
    "simulate",
    "validate_policy",
    "Finding",
    "Findings",
]

_VALIDATOR = ("validate_policy", "Finding", "Findings")


def __getattr__(name: str) -> Any:
    # The validator's modules are imported on first use: the engine sits on the lab's boot path.
    if name in _VALIDATOR:
        from labkit.policy import validate

        return getattr(validate, name)
    raise AttributeError(f"module 'labkit.policy' has no attribute {name!r}")
