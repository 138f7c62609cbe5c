"""Decisions: the result at once, the explanation (matched statements, missing keys) on demand."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["Decision", "MatchedStatement", "Trace", "Inputs", "Remedy", "LAYERS"]

#: Layer names, as Decision.decided_by and MatchedStatement.layer use them.
LAYERS = ("identity", "resource", "boundary", "scp", "rcp", "session")
_LAYER_TITLES = {"identity": "identity-based policy", "resource": "resource-based policy",
                 "boundary": "permissions boundary", "scp": "service control policy (SCP)",
                 "rcp": "resource control policy (RCP)", "session": "session policy"}


class Inputs(NamedTuple):
    """The compiled policies a decision was made from."""

    identity: tuple
    resource: Any
    boundaries: tuple
    scps: tuple
    rcps: tuple
    session: Any
    management_account: str | None


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that applied to the request: action, resource, principal and conditions matched."""

    policy_id: str | None
    policy_type: str | None
    sid: str | None
    index: int
    effect: str
    layer: str
    #: For resource-based policies, how the statement named the caller: "direct" (the caller's own
    #: ARN or "*"), "capped" (the role behind a session, or the user who federated) or "account".
    grant: str | None = None
    level: int | None = None  # organization level (0 = root) for SCPs and RCPs
    policy: Any = field(default=None, repr=False, compare=False)
    statement: Any = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"#{self.index}"

    def describe(self) -> str:
        where = f" at level {self.level}" if self.level is not None else ""
        name = self.policy_id or "(unnamed policy)"
        grant = f", names the caller: {self.grant}" if self.grant else ""
        return f"{self.effect:<5} {_LAYER_TITLES[self.layer]}{where} {name} statement {self.label}{grant}"


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything the engine looked at for one request."""

    statements: tuple[MatchedStatement, ...]
    missing: dict[str, tuple[str, ...]]  # layer -> condition keys read but absent from the context
    identity_allowed: bool | None
    resource_grant: str | None
    boundary_allowed: bool | None
    session_allowed: bool | None
    organizations_allowed: bool | None
    rcp_allowed: bool | None
    cross_account: bool
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Remedy:
    """Why a request was denied and the smallest change that would allow it (what AWS's simulator
    does not say). ``identity_change_helps`` is False when no identity-based policy edit can allow it
    (an SCP, RCP or resource-based policy must change); ``conditions`` names the failed conditions."""

    layer: str
    kind: str  # "explicitDeny" or "implicitDeny"
    change: str
    identity_change_helps: bool
    conditions: tuple[str, ...] = ()
    statement: MatchedStatement | None = None

    def lines(self) -> list[str]:
        return [self.change, *(f"condition: {text}" for text in self.conditions)]


class Decision:
    """The engine's answer for one request.

    ``result`` is "allowed", "explicitDeny" or "implicitDeny"; ``decided_by`` the layer that
    settled it ("identity", "resource", "boundary", "scp", "rcp" or "session"). The rest
    (matched statements, missing context keys, what the boundary and Organizations said) is
    worked out the first time it is asked for.
    """

    __slots__ = ("result", "decided_by", "request", "inputs", "_trace")

    def __init__(self, result: str, decided_by: str, request: Any, inputs: Inputs) -> None:
        self.result = result
        self.decided_by = decided_by
        self.request = request
        self.inputs = inputs
        self._trace: Trace | None = None

    @property
    def allowed(self) -> bool:
        return self.result == "allowed"

    @property
    def trace(self) -> Trace:
        if self._trace is None:
            from labkit.policy.trace import trace

            self._trace = trace(self.request, self.inputs)
        return self._trace

    @property
    def matched_statements(self) -> tuple[MatchedStatement, ...]:
        """Every statement that applied, in every layer, Allow and Deny alike."""
        return self.trace.statements

    @property
    def deciding_statements(self) -> tuple[MatchedStatement, ...]:
        """The statements behind the result: the denies for explicitDeny, the identity and
        resource allows for allowed, none for implicitDeny (as the simulator reports them)."""
        if self.result == "explicitDeny":
            return tuple(s for s in self.matched_statements if s.effect == "Deny")
        if self.result == "allowed":
            return tuple(s for s in self.matched_statements if s.layer in ("identity", "resource"))
        return ()

    @property
    def missing_context_keys(self) -> tuple[str, ...]:
        """Condition keys the applicable statements read that the request did not provide."""
        return _merge(self.trace.missing.values())

    @property
    def boundary_allowed(self) -> bool | None:
        """Whether the permissions boundary allows the request (None: no boundary applies)."""
        return self.trace.boundary_allowed

    @property
    def organizations_allowed(self) -> bool | None:
        """Whether the SCPs allow the request (None: no SCPs given)."""
        return self.trace.organizations_allowed

    @property
    def rcp_allowed(self) -> bool | None:
        """Whether the RCPs allow the request (None: no RCPs given)."""
        return self.trace.rcp_allowed

    @property
    def remedy(self) -> Remedy | None:
        """For a denied request, the layer that denied it and what change would allow it (None when
        allowed). Worked out from the trace each time it is asked for; evaluate() never builds it."""
        if self.result == "allowed":
            return None
        from labkit.policy.trace import remedy

        return remedy(self)

    def why_denied(self) -> str:
        """The remedy as text ("" when the request was allowed)."""
        found = self.remedy
        return "" if found is None else "\n".join(found.lines())

    def explain(self) -> str:
        """A few lines saying what was decided and why."""
        request, trace = self.request, self.trace
        lines = [f"{self.result} (decided by the {_LAYER_TITLES[self.decided_by]})",
                 f"  request: {request.action} on {request.resource}",
                 f"  caller:  {request.who.describe()}"]
        if trace.statements:
            lines.append("  matched statements:")
            lines += [f"    {s.describe()}" for s in trace.statements]
        else:
            lines.append("  no statement matched the request")
        for title, value in (("permissions boundary", trace.boundary_allowed), ("session policy", trace.session_allowed),
                             ("SCPs", trace.organizations_allowed), ("RCPs", trace.rcp_allowed)):
            if value is not None:
                lines.append(f"  {title}: {'allows' if value else 'does not allow'}")
        if self.missing_context_keys:
            lines.append(f"  missing context keys: {', '.join(self.missing_context_keys)}")
        lines += [f"  note: {note}" for note in trace.notes]
        found = self.remedy
        if found is not None:
            lines.append(f"  to allow: {found.change}")
            lines += [f"    condition: {text}" for text in found.conditions]
        return "\n".join(lines)

    def __repr__(self) -> str:
        request = self.request
        return (f"<Decision {self.result} by {self.decided_by}: {request.action} on {request.resource} "
                f"by {request.principal or 'an unspecified caller'}>")

    def __str__(self) -> str:
        return self.explain()

    def _repr_html_(self) -> str:
        colour = {"allowed": "#1a7f37", "explicitDeny": "#cf222e"}.get(self.result, "#9a6700")
        esc = html.escape
        request, trace = self.request, self.trace
        rows = "".join(
            f"<tr><td>{esc(s.effect)}</td><td>{esc(_LAYER_TITLES[s.layer])}</td><td>{esc(s.policy_id or '')}</td>"
            f"<td>{esc(s.label)}</td><td>{esc(s.grant or '')}</td></tr>" for s in trace.statements)
        table = (f"<table><thead><tr><th>Effect</th><th>Layer</th><th>Policy</th><th>Statement</th><th>Principal</th>"
                 f"</tr></thead><tbody>{rows}</tbody></table>") if rows else "<p>No statement matched the request.</p>"
        extra = "".join(f"<li>{esc(line.strip())}</li>" for line in self.explain().splitlines()
                        if line.strip().startswith(("permissions", "session", "SCPs", "RCPs", "missing", "note")))
        found = self.remedy
        fix = "" if found is None else (
            f"<p><b>To allow:</b> {esc(found.change)}</p>"
            + ("<ul>" + "".join(f"<li>{esc(t)}</li>" for t in found.conditions) + "</ul>" if found.conditions else ""))
        return (f"<div class='labkit-decision'><p><b style='color:{colour}'>{esc(self.result)}</b> "
                f"(decided by the {esc(_LAYER_TITLES[self.decided_by])})<br>"
                f"<code>{esc(request.action)}</code> on <code>{esc(request.resource)}</code> by "
                f"<code>{esc(request.who.describe())}</code></p>{table}"
                f"{'<ul>' + extra + '</ul>' if extra else ''}{fix}</div>")


def _merge(groups) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for group in groups:
        for key in group:
            seen.setdefault(key.lower(), key)
    return tuple(sorted(seen.values(), key=lambda k: (k.lower(), k)))
