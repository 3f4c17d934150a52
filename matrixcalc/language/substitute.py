"""Substitution (composition): `e.subs({"y": "W x + b"})` (SPEC section 5).

Each named symbol is replaced, simultaneously, by an expression: a text (parsed with the
kinds of e's symbols, then `where`, then the naming convention) or an Expr. The result
is typed afresh in one context with e's symbols keeping their named dimensions, and with
each replacement required to have exactly the shape of the symbol it replaces (the
dimensions of new symbols follow from it): a replacement that does not fit raises
ShapeError, never a silent broadcast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..errors import MatrixCalcError, ShapeError, UsageError
from .declarations import NAME_PATTERN, Declaration, parse_where
from .expr import Apply, Expr, Symbol, untyped
from .infer import infer
from .parse import parse_raw


def _as_written(e: Expr) -> Expr:
    """The tree as the parser builds it (operators as written, e.g. juxtaposition), so
    that a product re-elaborates when a factor changes kind; the stripped tree if the
    printed text does not parse back."""
    try:
        return parse_raw(str(e))
    except MatrixCalcError:
        return untyped(e)


def _replace(e: Expr, raw: dict[str, Expr]) -> Expr:
    if isinstance(e, Symbol) and e.name in raw:
        return raw[e.name]
    if isinstance(e, Apply):
        return replace(e, args=tuple(_replace(a, raw) for a in e.args), ty=None)
    return replace(e, ty=None)


def subs(e: Expr, mapping: Mapping[str, str | Expr], where=None) -> Expr:
    """`e` with symbols replaced by expressions, re-typed; ShapeError where one misfits."""
    if e.ty is None:
        raise UsageError("this expression has no inferred shape: build it with mc.parse")
    if not isinstance(mapping, Mapping):
        raise UsageError("subs takes a dict: {name: text or Expr}")
    known = dict(e.shapes)
    declared = parse_where(where)
    raw: dict[str, Expr] = {}
    texts: dict[str, str] = {}
    for name, value in mapping.items():
        name = name.name if isinstance(name, Symbol) else name
        if not isinstance(name, str) or not NAME_PATTERN.match(name.strip()):
            shown = f"`{name}`" if isinstance(name, str) else repr(name)
            raise UsageError(f"subs replaces symbols by name, not {shown}",
                             hint="a key is one symbol's name: {\"y\": \"W x + b\"}; "
                                  "to replace y^T, replace y")
        name = name.strip()
        if name not in known:
            raise UsageError(f"`{name}` does not occur in `{e}`: there is nothing to "
                             "replace", hint=f"its symbols are {', '.join(known)}")
        if isinstance(value, Expr):
            raw[name], texts[name] = untyped(value), str(value)
            for s, info in (value.shapes.items() if value.ty is not None else ()):
                if s not in known:  # its symbols keep their kinds (sizes follow from e)
                    declared.setdefault(s, Declaration(info.kind, info.assumptions))
        elif isinstance(value, str):
            raw[name], texts[name] = parse_raw(value), value
        else:
            raise UsageError(f"the replacement of `{name}` is a text or an Expr, not "
                             f"{type(value).__name__}")
    result_raw = _replace(_as_written(e), raw)
    checks = [Apply("add", (Symbol(name, info=known.get(name)), Apply("neg", (r,))))
              for name, r in raw.items()]
    try:
        typed = infer([result_raw, *checks], declared, None, known)
    except ShapeError as error:
        replaced = ", ".join(f"{n} = {t}" for n, t in texts.items())
        raise ShapeError(f"the substitution {replaced} does not fit: {error.message}",
                         hint=getattr(error, "hint", None)) from None
    for (name, text), check in zip(texts.items(), typed[1:]):
        symbol_ty, value_ty = check.args[0].ty, check.args[1].args[0].ty
        if symbol_ty != value_ty:
            raise ShapeError(f"`{name}` is {symbol_ty.describe()} but `{text}` is "
                             f"{value_ty.describe()}")
    return typed[0]


__all__ = ["subs"]
