"""Every error labkit raises: one root, and AWS's error codes where labkit answers as AWS would."""

from __future__ import annotations

__all__ = [
    "LabkitError",
    "AwsError",
    "MalformedPolicyDocument",
    "NoSuchEntity",
    "ScenarioError",
    "LabStateError",
    "NoLabRunning",
    "CheckFailed",
    "InvalidInput",
    "ApiError",
    "Unmapped",
    "BadNotebook",
    "ServerLost",
]


class LabkitError(Exception):
    """Root of every error labkit raises."""


def _short_message(headline: str, *lines: str) -> list[str]:
    """What IPython shows for an error a learner should read rather than debug.

    An exception's ``_render_traceback_`` (IPython's hook) replaces the traceback with these
    lines: a red headline and the message. The cell still fails for nbval, nbclient and pytest.
    """
    return [f"\x1b[1;31m✗ {headline}\x1b[0m", *lines]


class AwsError(LabkitError):
    """An error labkit reports the way AWS would: with AWS's error ``code`` and message."""

    code: str = "ServiceFailure"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class MalformedPolicyDocument(AwsError):
    """A policy document that AWS would refuse, with where the problem is.

    ``statement`` is the statement's Sid, or its index when it has none; ``element`` the policy
    element (``Effect``, ``Action``, ``Condition``...) at fault. Either may be ``None`` when the
    problem is with the document as a whole.
    """

    code = "MalformedPolicyDocument"

    def __init__(
        self,
        message: str,
        *,
        statement: str | int | None = None,
        element: str | None = None,
    ) -> None:
        where = []
        if statement is not None:
            where.append(f"statement {statement!r}" if isinstance(statement, str) else f"statement #{statement}")
        if element is not None:
            where.append(f"element {element}")
        full = f"{message} (at {', '.join(where)})" if where else message
        super().__init__(full)
        self.statement = statement
        self.element = element


class NoSuchEntity(AwsError):
    """A user, role, group or policy that does not exist in the lab account."""

    code = "NoSuchEntity"


class ScenarioError(LabkitError):
    """A scenario file that cannot be loaded: names the entry at fault and the problem."""

    def __init__(self, problem: str, *, entry: str | None = None, source: str | None = None) -> None:
        self.problem = problem
        self.entry = entry
        self.source = source
        parts = [f"in {source}" if source else None, f"at {entry}" if entry else None]
        where = " ".join(p for p in parts if p)
        super().__init__(f"Scenario error {where}: {problem}" if where else f"Scenario error: {problem}")


class LabStateError(LabkitError):
    """A Lab used out of order: started twice, stopped before it started, used after stop."""


class NoLabRunning(LabkitError):
    """A boto3/botocore call was about to leave this machine while no Lab is running.

    labkit never lets a request reach real AWS; start a Lab first.
    """

    def _render_traceback_(self) -> list[str]:
        # Raised from deep inside botocore: the frames say nothing a learner can act on.
        return _short_message("No lab is running", *str(self).splitlines())


class CheckFailed(LabkitError):
    """A graded check that did not pass. Carries the check's id, message and hint."""

    def __init__(self, check_id: str, message: str, hint: str | None = None) -> None:
        self.check_id = check_id
        self.message = message
        self.hint = hint
        text = f"[{check_id}] {message}"
        if hint:
            text += f"\nHint: {hint}"
        super().__init__(text)

    def _render_traceback_(self) -> list[str]:
        hint = [f"\x1b[33mHint:\x1b[0m {self.hint}"] if self.hint else []
        return _short_message(f"Check {self.check_id} did not pass", self.message, *hint)


class InvalidInput(AwsError):
    """A value labkit cannot evaluate: a request, context entry or argument of the wrong type or
    form. Named for IAM's ``InvalidInput`` error, which the policy simulator answers with."""

    code = "InvalidInput"


class ApiError(AwsError):
    """An AWS error that an API labkit answers itself responds with: ``code``, message, HTTP status."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.status = status


class Unmapped(LabkitError):
    """An API call labkit cannot map to the actions and resources AWS would authorize.

    The gate denies such calls rather than let them through unchecked.
    """

    def __init__(self, service: str, operation: str, reason: str = "") -> None:
        self.service = service
        self.operation = operation
        self.reason = reason
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"labkit cannot map {service} {operation} to the IAM actions and resources AWS would "
            f"authorize{detail}, so the lab does not allow it"
        )


class BadNotebook(LabkitError):
    """A submission file that cannot be run: not JSON, not a notebook, too large, unreadable."""


class ServerLost(LabkitError):
    """A lab server that stopped, or stopped answering, before it judged its run."""
