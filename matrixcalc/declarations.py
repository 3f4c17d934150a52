"""Declarations of kinds and assumptions (`where=`) and the naming convention.

Invariant: a symbol's kind is decided here, before inference, by the first rule that
applies (SPEC section 2): a declaration, then the naming convention; inference may only
turn an undeclared symbol into a scalar (rule 3), never any other change of kind.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import UsageError

ASSUMPTIONS = ("symmetric", "spd", "diagonal", "orthogonal", "invertible", "constant",
               "distribution")
KIND_WORDS = ("scalar", "vector", "matrix")
# What an assumption implies: further assumptions and, where one follows, a kind.
IMPLIES = {
    "symmetric": ({"symmetric"}, "matrix"),
    "spd": ({"spd", "symmetric", "invertible"}, "matrix"),
    "diagonal": ({"diagonal", "symmetric"}, "matrix"),
    "orthogonal": ({"orthogonal", "invertible"}, "matrix"),
    "invertible": ({"invertible"}, "matrix"),
    "constant": ({"constant"}, None),
    "distribution": ({"distribution"}, "vector"),
}
SQUARE = frozenset({"symmetric", "spd", "diagonal", "orthogonal", "invertible"})
GREEK_NAMES = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "eps", "eta", "kappa", "lambda", "mu",
    "nu", "rho", "sigma", "tau", "omega", "theta", "phi", "psi", "xi", "zeta", "chi", "pi"})


@dataclass(frozen=True)
class Declaration:
    kind: str | None
    assumptions: frozenset[str]


def conventional_kind(name: str) -> str:
    """Upper-case initial: matrix; a Greek letter or its name: scalar; otherwise vector."""
    first = name[0]
    if first.isupper():
        return "matrix"
    base = name.split("_")[0].rstrip("0123456789")
    if _is_greek(first) or base in GREEK_NAMES:
        return "scalar"
    return "vector"


def _is_greek(char: str) -> bool:
    return "GREEK" in unicodedata.name(char, "")


def parse_where(where: str | Mapping[str, object] | None) -> dict[str, Declaration]:
    """`"n, m: scalar; A: symmetric"` or `{"A": "symmetric"}` -> declarations by name.

    Errors point into the `where` text; a dict entry is shown as the text `name: words`.
    """
    if where is None:
        return {}
    entries: list[tuple[str, str, str, int, int]] = []  # name, words, source, offsets
    if isinstance(where, str):
        offset = 0
        for chunk in where.split(";"):
            if chunk.strip():
                if ":" not in chunk:
                    raise UsageError("a `where` entry is `names: words`, e.g. `A: symmetric`",
                                     where, (offset, offset + len(chunk)))
                names, words = chunk.split(":", 1)
                words_at = offset + len(names) + 1
                name_at = offset
                for name in names.split(","):
                    lead = len(name) - len(name.lstrip())
                    entries.append((name.strip(), words, where, name_at + lead, words_at))
                    name_at += len(name) + 1
            offset += len(chunk) + 1
    elif isinstance(where, Mapping):
        for name, words in where.items():
            text = " ".join(map(str, words)) if isinstance(words, (list, tuple)) \
                else str(words)
            name = str(name).strip()
            entries.append((name, text, f"{name}: {text}", 0, len(name) + 2))
    else:
        raise UsageError(f"`where` takes a string or a dict, not {type(where).__name__}")
    declared: dict[str, Declaration] = {}
    for name, words, source, name_at, words_at in entries:
        new = _declaration(name, words, source, name_at, words_at)
        declared[name] = _merge(name, declared.get(name), new, source, name_at)
    return declared


def _declaration(name: str, words: str, source: str, name_at: int,
                 words_at: int) -> Declaration:
    if not name or not (name[0].isalpha()) or not name.replace("_", "").isalnum():
        raise UsageError(f"`{name}` in `where` is not a symbol name", source,
                         (name_at, name_at + max(1, len(name))))
    kind, assumptions = None, set()
    for match in re.finditer(r"[^\s,]+", words):
        word, span = match.group().lower(), (words_at + match.start(), words_at + match.end())
        if word in KIND_WORDS:
            kind = _agree(name, kind, word, source, span)
        elif word in IMPLIES:
            implied, implied_kind = IMPLIES[word]
            assumptions |= implied
            if implied_kind:
                kind = _agree(name, kind, implied_kind, source, span, word)
        else:
            close = difflib.get_close_matches(word, ASSUMPTIONS + KIND_WORDS, n=1)
            hint = f"did you mean `{close[0]}`?" if close else \
                f"known words: {', '.join(KIND_WORDS + ASSUMPTIONS)}"
            raise UsageError(f"unknown assumption `{word}` for `{name}`", source, span, hint)
    if kind is None and not assumptions:
        raise UsageError(f"`{name}` is declared with no kind or assumption", source,
                         (name_at, name_at + len(name)),
                         f"known words: {', '.join(KIND_WORDS + ASSUMPTIONS)}")
    return Declaration(kind, frozenset(assumptions))


def _agree(name: str, kind: str | None, new: str, source: str, span,
           word: str | None = None) -> str:
    if kind is not None and kind != new:
        because = f" (`{word}` implies a {new})" if word else ""
        raise UsageError(f"`{name}` is declared both a {kind} and a {new}{because}", source,
                         span)
    return new


def _merge(name: str, old: Declaration | None, new: Declaration, source: str,
           name_at: int) -> Declaration:
    if old is None:
        return new
    if new.kind is not None and old.kind is not None and new.kind != old.kind:
        raise UsageError(f"`{name}` is declared both a {old.kind} and a {new.kind}", source,
                         (name_at, name_at + len(name)))
    kind = new.kind if old.kind is None else old.kind
    return Declaration(kind, old.assumptions | new.assumptions)
