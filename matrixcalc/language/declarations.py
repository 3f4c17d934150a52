"""Declarations of kinds, dimensions and assumptions (`where=`) and the naming convention.

Invariant: a symbol's kind is decided here, before inference, by the first rule that
applies (SPEC section 2): a declaration, then the naming convention; inference may only
turn an undeclared symbol into a scalar (rule 3), never any other change of kind. A
declaration may name dimensions (`X: matrix(n, d)`, `y: vector(n)`); those names are
dimensions, never symbols, and used as scalars they are sizes.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import UsageError

ASSUMPTIONS = ("symmetric", "spd", "diagonal", "orthogonal", "invertible", "constant",
               "distribution", "stochastic", "square")
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
    "stochastic": ({"stochastic"}, "matrix"),  # each row a distribution (row-stochastic)
    "square": ({"square"}, "matrix"),
}
SQUARE = frozenset({"symmetric", "spd", "diagonal", "orthogonal", "invertible", "square"})
# How many dimensions each kind names: matrix(n, d) or matrix(n) (square), vector(n).
DIM_COUNTS = {"matrix": (1, 2), "vector": (1,), "scalar": ()}
WORD = re.compile(r"(\w+)\s*\(([^()]*)\)|[^\s,()]+|\S")
# A symbol's name as the grammar reads it (NAME in grammar/matrixcalc.lark).
NAME_PATTERN = re.compile(r"[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*\Z")
GREEK_NAMES = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "eps", "eta", "kappa", "lambda", "mu",
    "nu", "rho", "sigma", "tau", "omega", "theta", "phi", "psi", "xi", "zeta", "chi", "pi"})


@dataclass(frozen=True)
class Declaration:
    kind: str | None
    assumptions: frozenset[str]
    dims: tuple[str | int, ...] | None = None  # rows (and columns) as named, if named

    def words(self) -> str:
        """The declaration as `where` text: `matrix(n, d) symmetric`."""
        kind = self.kind
        if kind is not None and self.dims is not None:
            kind = f"{kind}({', '.join(map(str, self.dims))})"
        return " ".join(filter(None, [kind, *sorted(self.assumptions)]))

    def shape_atoms(self) -> tuple[str | int, str | int] | None:
        """(rows, cols) as declared: `matrix(n)` is n×n, `vector(n)` is n×1."""
        if self.dims is None:
            return None
        if self.kind == "vector":
            return (self.dims[0], 1)
        return (self.dims[0], self.dims[-1])


def dimension_names(declared: Mapping[str, Declaration]) -> set[str]:
    """The names that declarations give to dimensions."""
    return {d for decl in declared.values() for d in (decl.dims or ()) if isinstance(d, str)}


def conventional_kind(name: str) -> str:
    """Upper-case initial: matrix; a Greek letter or its name: scalar; otherwise vector."""
    first = name[0]
    if first.isupper():
        return "matrix"
    base = name.split("_")[0].rstrip("0123456789")
    if _is_greek(first) or base in GREEK_NAMES:
        return "scalar"
    return "vector"


def convention_reason(name: str) -> str:
    """Why the convention gives `name` its kind, in the words errors and warnings use."""
    if name[0].isupper():
        return "an upper-case name"
    if _is_greek(name[0]):
        return "a Greek letter"
    if conventional_kind(name) == "scalar":
        return "a Greek letter's name"
    return "a lower-case Latin name" if name[0].isascii() else "a lower-case name"


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
    kind, assumptions, dims = None, set(), None
    for match in WORD.finditer(words):
        word, span = match.group().lower(), (words_at + match.start(), words_at + match.end())
        if match.group(1) is not None:  # matrix(n, d), vector(n)
            word = match.group(1).lower()
            if word not in DIM_COUNTS or not DIM_COUNTS[word]:
                raise UsageError(f"`{match.group(1)}(…)` names dimensions of a matrix or a "
                                 "vector only", source, span,
                                 "write `X: matrix(n, d)` or `y: vector(n)`")
            dims = _dimensions(name, word, match.group(2), source, span)
            kind = _agree(name, kind, word, source, span)
        elif word in KIND_WORDS:
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
    if dims is not None and assumptions & SQUARE and dims[0] != dims[-1]:
        raise UsageError(f"`{name}` is declared square with dimensions "
                         f"{' and '.join(map(str, dims))}", source, (words_at, words_at +
                                                                      len(words)))
    return Declaration(kind, frozenset(assumptions), dims)


def _dimensions(name: str, kind: str, inner: str, source: str, span) -> tuple:
    """`n, d` -> ("n", "d"); a dimension is a name or a size of at least 2."""
    parts = [p.strip() for p in inner.split(",")]
    if len(parts) not in DIM_COUNTS[kind]:
        counts = " or ".join(map(str, DIM_COUNTS[kind]))
        raise UsageError(f"a {kind} names {counts} dimension{'s' if kind == 'matrix' else ''}"
                         f", not {len(parts)}", source, span)
    dims: list[str | int] = []
    for part in parts:
        if part.isdigit() and int(part) >= 2:
            dims.append(int(part))
        elif part.isidentifier() and not part.startswith("_"):
            dims.append(part)
        else:
            raise UsageError(f"`{part}` is not a dimension of `{name}`: a dimension is a "
                             "name or a size of at least 2", source, span)
    return tuple(dims)


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
    if new.dims is not None and old.dims is not None and new.dims != old.dims:
        raise UsageError(f"`{name}` is declared with two sets of dimensions", source,
                         (name_at, name_at + len(name)))
    kind = new.kind if old.kind is None else old.kind
    dims = new.dims if old.dims is None else old.dims
    return Declaration(kind, old.assumptions | new.assumptions, dims)
