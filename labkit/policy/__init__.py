"""labkit's IAM policy engine: parse policies once, decide requests fast, explain on demand."""

from labkit.policy.decision import Decision, MatchedStatement
from labkit.policy.document import Policy
from labkit.policy.engine import evaluate
from labkit.policy.request import Request
from labkit.policy.simulator import condition_keys, simulate

__all__ = ["Policy", "Request", "Decision", "MatchedStatement", "evaluate", "condition_keys", "simulate"]
