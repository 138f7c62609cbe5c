"""Policy strings as matchers: `*`/`?` wildcards, ARN segments and `${...}` policy variables."""

from __future__ import annotations

import re
from typing import Callable, Optional

__all__ = ["Template", "LookupFn", "ANY", "glob_regex", "literal", "compile_matcher", "matches", "Resolving"]

# Token kinds. LIT is text written in the policy, VAL is text a variable resolved to: both are
# literal, but only LIT colons separate ARN segments.
LIT, STAR, QMARK, VAR, VAL = range(5)

#: Resolve a lower-cased condition key to its values in the request (None when missing).
LookupFn = Callable[[str], Optional[tuple]]

# ${key} or ${key, 'default'}: reference_policies_variables.md, "Specifying default values".
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KEY_AND_DEFAULT = re.compile(r"\s*([^,'\s][^,']*?)\s*(?:,\s*'([^']*)'\s*)?")
# ${*}, ${?} and ${$} stand for the literal characters: "Special characters" in the same page.
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_WILDCARDS = re.compile(r"([*?])")
_CACHE_LIMIT = 512


class _Any:
    """A matcher that matches every string (a lone `*`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


def _tokenize(text: str, *, variables: bool, wildcards: bool) -> tuple:
    tokens: list[tuple] = []

    def literal(chunk: str) -> None:
        if not wildcards:
            if chunk:
                tokens.append((LIT, chunk))
            return
        for piece in _WILDCARDS.split(chunk):
            if piece == "*":
                tokens.append((STAR,))
            elif piece == "?":
                tokens.append((QMARK,))
            elif piece:
                tokens.append((LIT, piece))

    if not variables or "${" not in text:
        literal(text)
    else:
        pos = 0
        for match in _VARIABLE.finditer(text):
            literal(text[pos : match.start()])
            inner = match.group(1)
            if inner in _ESCAPES:
                tokens.append((VAL, _ESCAPES[inner]))
            else:
                parsed = _KEY_AND_DEFAULT.fullmatch(inner)
                if parsed is None:  # not a variable AWS would recognise: keep the text as written
                    literal(match.group(0))
                else:
                    tokens.append((VAR, parsed.group(1), parsed.group(2)))
            pos = match.end()
        literal(text[pos:])
    return tuple(tokens)


def glob_regex(tokens: tuple, *, arn: bool) -> str:
    """A regex (no anchors; use fullmatch) for variable-free tokens.

    With ``arn`` the first five literal colons split ARN segments, and wildcards in those first
    segments stay inside their segment; in the sixth (resource) segment, which may itself hold
    colons and slashes, they match anything. reference_policies_elements_resource.md ("Using
    wildcards in resource ARNs") and the ArnLike row of reference_policies_elements_condition_
    operators.md both say wildcards work within the colon-separated segments.

    Each `*` but the last becomes an atomic lazy group, ``(?>.*?<text up to the next *>)``: the
    text between stars has a fixed length, so its earliest occurrence is always the right one,
    and committing to it keeps matching linear however many stars a pattern has (a plain
    ``.*a.*a.*b`` backtracks polynomially on long strings).
    """
    pieces: list[list[str]] = [[]]  # text before the first star, then one list per star
    stars: list[str] = []
    segment = 0 if arn else 5
    for token in tokens:
        kind = token[0]
        if kind == LIT:
            text = token[1]
            if segment < 5 and ":" in text:
                for i, piece in enumerate(text.split(":")):
                    if i:
                        pieces[-1].append(":")
                        segment += 1
                    pieces[-1].append(re.escape(piece))
            else:
                pieces[-1].append(re.escape(text))
        elif kind == VAL:
            pieces[-1].append(re.escape(token[1]))
        elif kind == STAR:
            if stars and not pieces[-1]:
                continue  # "**" is "*"
            stars.append("." if segment >= 5 else "[^:]")
            pieces.append([])
        elif kind == QMARK:
            pieces[-1].append("." if segment >= 5 else "[^:]")
        else:  # pragma: no cover - callers resolve variables first
            raise ValueError("unresolved variable")
    out = ["".join(pieces[0])]
    for i, star in enumerate(stars):
        chunk = "".join(pieces[i + 1])
        out.append(f"(?>{star}*?{chunk})" if i < len(stars) - 1 else f"{star}*{chunk}")
    return "".join(out)


class Template:
    """One string from a policy, parsed once: literal text, wildcards and policy variables."""

    __slots__ = ("text", "tokens", "keys", "static", "wild")

    def __init__(self, text: str, *, variables: bool, wildcards: bool) -> None:
        self.text = text
        self.tokens = _tokenize(text, variables=variables, wildcards=wildcards)
        self.keys = tuple(t[1] for t in self.tokens if t[0] == VAR)
        self.static = not self.keys
        self.wild = any(t[0] in (STAR, QMARK) for t in self.tokens)

    def resolve(self, lookup: LookupFn) -> tuple | None:
        """The tokens with each variable replaced by its value; None when one has no value.

        A variable resolves only to a single-valued key (reference_policies_variables.md: "You
        can't use a multivalued condition key as a variable"); a missing key falls back on the
        default when the policy gives one ("Policy variables with no value").
        """
        if self.static:
            return self.tokens
        out = []
        for token in self.tokens:
            if token[0] == VAR:
                values = lookup(token[1].lower())
                if values is not None and len(values) == 1:
                    out.append((VAL, values[0]))
                elif token[2] is not None:
                    out.append((VAL, token[2]))
                else:
                    return None
            else:
                out.append(token)
        return tuple(out)

    def literal(self) -> str:
        """The string as written, with ${*}, ${?}, ${$} unescaped."""
        return literal(self.tokens)


def literal(tokens: tuple) -> str:
    """The plain string that variable-free tokens stand for, wildcards kept as characters."""
    chars = {STAR: "*", QMARK: "?"}
    return "".join(t[1] if t[0] in (LIT, VAL) else chars.get(t[0], "") for t in tokens)


def compile_matcher(token_lists, *, arn: bool):
    """A matcher for variable-free patterns: ANY, a frozenset of exact strings, or
    ``(exact, regex)`` where ``exact`` may be None."""
    exact: set[str] = set()
    patterns: list[str] = []
    for tokens in token_lists:
        if tokens == ((STAR,),):
            return ANY
        if any(t[0] == STAR or t[0] == QMARK for t in tokens):
            patterns.append(glob_regex(tokens, arn=arn))
        else:
            exact.add(literal(tokens))
    if not patterns:
        return frozenset(exact)
    regex = re.compile("|".join(f"(?:{p})" for p in patterns), re.DOTALL)
    return (frozenset(exact) if exact else None, regex)


def matches(matcher, value: str) -> bool:
    """Whether ``value`` matches a matcher built by :func:`compile_matcher`."""
    if matcher is ANY:
        return True
    if type(matcher) is frozenset:
        return value in matcher
    exact, regex = matcher
    if exact is not None and value in exact:
        return True
    return regex.fullmatch(value) is not None


class Resolving:
    """Values holding policy variables: resolved per request, built once per distinct resolution.

    ``build`` turns the list of resolved token tuples into whatever the caller matches with;
    values whose variable has no value are left out (they equal nothing).
    """

    __slots__ = ("templates", "build", "_cache")

    def __init__(self, templates: list[Template], build: Callable) -> None:
        self.templates = templates
        self.build = build
        self._cache: dict = {}

    def get(self, lookup: LookupFn):
        resolved = tuple(t.resolve(lookup) for t in self.templates)
        built = self._cache.get(resolved)
        if built is None:
            built = self.build([tokens for tokens in resolved if tokens is not None])
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[resolved] = built
        return built
