"""Text to typed expression trees: Lark (LALR) with a table-driven transformer.

The transformer (language/tree_builder.py) builds raw nodes whose operator names come from
the grammar's aliases and, for calls, from the operator table's function spellings; the
post-lexer and the error messages are in language/tokens.py; `infer` then types and
elaborates them. Invariants: no Lark exception escapes (every failure is a ParseError
with position and caret, or a ShapeError), and no tree deeper than the `depth` limit,
with more than `nodes` nodes or with a number of more than `digits` digits is built (a
LimitError, SPEC section 8), so no later pass can hit Python's recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import lark
from lark import Lark

from .. import budget
from ..errors import MatrixCalcError, ParseError, UsageError
from ..guard import public
from ..resources import grammar_text
from .conventions import kind_warning, warn_kinds
from .declarations import dimension_names, parse_where
from .expr import ENGINE_NAMES, Apply, Dimension, Expr, Symbol, names_in, walk
from .infer import infer
from .shapes import Shape, name_dims
from .tokens import BarClassifier, translate
from .tree_builder import TreeBuilder


@lru_cache(maxsize=None)
def _parser(start: str) -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="basic", start=start,
                postlex=BarClassifier(), keep_all_tokens=True, maybe_placeholders=False,
                transformer=TreeBuilder())


def _run(text: str, start: str):
    # The transformer runs inside the LALR parser, so building the tree never recurses.
    try:
        return _parser(start).parse(text)
    except MatrixCalcError as error:
        raise error.with_source(text) from None
    except lark.exceptions.UnexpectedInput as error:
        raise translate(error, text) from None


def _check_size(root: Expr, text: str) -> None:
    """The depth and node limits (iteratively: the tree may be too deep to recurse)."""
    depth_limit = budget.current().depth
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > depth_limit:
            raise budget.error("depth", f"the expression is nested more than {depth_limit} "
                                        f"levels deep (the limit depth={depth_limit})",
                               text, node.span)
        stack.extend((child, depth + 1) for child in node.children())
    budget.check("nodes", count, "the number of nodes of the expression")


def parse_raw(text: str) -> Expr:
    """The untyped tree (operators as written); used by `parse` and by tests."""
    root = _run_checked(text, "start")
    _check_size(root, text)
    return root


def _run_checked(text: str, start: str):
    if not isinstance(text, str):
        from ..errors import UsageError
        raise UsageError(f"expected the expression as a string, not {type(text).__name__}")
    budget.check("chars", len(text), "the length of the input in characters")
    if not text.strip():
        raise ParseError("the input is empty: write an expression such as `x^T A x`",
                         text, (0, max(1, len(text))))
    return _run(text, start)


@public
def parse(text: str, where=None) -> Expr:
    """Parse, infer kinds and dimensions, and return the typed tree (SPEC section 5).
    Warns (KindWarning) where the naming convention makes the function a vector or a
    matrix only through a coefficient (`k/2 ||w||^2`); `parse_quietly` does not."""
    root = parse_raw(text)
    declared = parse_where(where)
    (typed,) = infer([root], declared, text)
    warn_kinds(kind_warning([typed], [root], declared, text))
    return typed


def parse_quietly(text: str, where=None) -> Expr:
    """`parse` without the KindWarning: for text the engine reads on its own account (a
    table's entries, a claimed result), never the user's expression itself."""
    (typed,) = infer([parse_raw(text)], parse_where(where), text)
    return typed


def as_expr(expr, where=None, tensors: bool = False) -> Expr:
    """What every API function takes as an expression: text (parsed with `where`) or a
    typed tree (an `mc.parse` result or any result of the engine). `tensors`: whether the
    caller takes an order-3/4 derivative too (evaluate, lambdify, check, to_sympy)."""
    if isinstance(expr, str):
        return parse(expr, where)
    if isinstance(expr, Expr) and expr.is_tensor:
        if tensors:
            return expr
        raise UsageError("this takes an expression in matrix form, not a derivative of "
                         "order 3 or 4 (index form)",
                         hint="differentiate the expression itself, or use vec=True for "
                              "the matrix ∂vec(F)/∂vec(X)")
    if isinstance(expr, Expr):
        if expr.ty is None:
            raise UsageError("this expression has no inferred shape: build it with mc.parse")
        return expr
    raise UsageError(f"expected an expression (text or mc.parse result), not "
                     f"{type(expr).__name__}")


def wrt_symbol(e: Expr, wrt, where=None, taken: set[str] = frozenset()) -> Symbol:
    """The variable named by `wrt` (a name or a Symbol) as a typed symbol: e's own, or,
    for a symbol that does not occur (the derivative is then 0), one with dimensions of
    its own unless declared: the y of d(x^T x)/dy is no more x's size than any other.
    `taken`: dimension names it must not use (another absent variable's)."""
    name = wrt.name if isinstance(wrt, Symbol) else wrt
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"`wrt` names a symbol, not {wrt!r}")
    name = name.strip()
    engine = sorted(n for n in names_in(e) if n.startswith(ENGINE_NAMES))
    if engine:
        raise UsageError(f"`{engine[0]}` is a name the engine keeps for its own symbols",
                         hint="rename that symbol")
    for s in e.symbols():
        if s.name == name:
            return s
    try:
        parsed = parse(name, where)
    except MatrixCalcError:
        parsed = None
    if not isinstance(parsed, Symbol):
        raise UsageError(f"`wrt` must be a symbol, not `{name}`",
                         hint="differentiate with respect to one name, e.g. wrt=\"x\"")
    declared = parse_where(where).get(name) if where is not None else None
    if declared is not None and declared.dims is not None:
        return parsed
    used = {a for s in e.shapes.values() for a in s.rows + s.cols} | set(e.shapes) | {name}
    used |= {a for node in walk(e) if node.ty is not None  # sizes of I and ones too
             for a in node.ty.rows + node.ty.cols if isinstance(a, str)}
    atoms = [a for a in dict.fromkeys(parsed.info.rows + parsed.info.cols)
             if isinstance(a, str)]
    names = name_dims(atoms, used | set(taken))
    rows, cols = (tuple(names.get(a, a) for a in d)
                  for d in (parsed.info.rows, parsed.info.cols))
    info = replace(parsed.info, rows=rows, cols=cols)
    return replace(parsed, info=info, ty=Shape(rows, cols))


@dataclass(frozen=True)
class Statement:
    """`LHS = RHS` or `d/dX EXPR = RHS`, both sides typed in one context."""

    kind: str
    lhs: Expr
    rhs: Expr
    wrt: Symbol | None
    text: str


@public
def parse_statement(text: str, where=None, warn: bool = True) -> Statement:
    """`LHS = RHS` or `d/dX EXPR = RHS`, typed; warns as `parse` does about the function
    (both sides of an equality, the left of a derivative claim) unless `warn` is False."""
    raw = _run_checked(text, "statement")
    for side in (raw.lhs, raw.rhs):
        _check_size(side, text)
    roots = [raw.lhs, raw.rhs]
    if raw.wrt is not None:
        roots.append(Symbol(raw.wrt, span=raw.wrt_span))
    declared = parse_where(where)
    typed = infer(roots, declared, text)
    if warn:
        functions = 1 if raw.wrt is not None else 2
        warn_kinds(kind_warning(typed, roots, declared, text, functions))
    wrt = typed[2] if raw.wrt is not None else None
    lhs, rhs = _one_free_size(typed[:2], declared)
    return Statement(raw.kind, lhs, rhs, wrt, text)


def _one_free_size(sides: list[Expr], declared) -> list[Expr]:
    """The sides with every size that nothing fixes (of an I or ones no symbol sizes)
    made one size, so that a claim means one identity throughout: `tr(I) = tr(I)` and
    `tr(I) + tr(I) = 2 tr(I)` hold, as a reader means them."""
    fixed = set(dimension_names(declared))
    free: dict[str, None] = {}
    for side in sides:
        for node in walk(side):
            if isinstance(node, Symbol) and node.info is not None:
                fixed.update(node.info.rows + node.info.cols)
            elif isinstance(node, Dimension):
                fixed.add(node.name)
    for side in sides:
        for node in walk(side):
            for atom in node.ty.rows + node.ty.cols:
                if isinstance(atom, str):
                    free.setdefault(atom)
    names = [a for a in free if a not in fixed]
    if len(names) < 2:
        return sides
    one = {a: names[0] for a in names}

    def rename(dim):
        return tuple(sorted((one.get(a, a) for a in dim),
                            key=lambda a: (isinstance(a, str), str(a))))

    def renamed(node: Expr) -> Expr:
        if isinstance(node, Apply):
            node = replace(node, args=tuple(renamed(a) for a in node.args))
        return replace(node, ty=Shape(rename(node.ty.rows), rename(node.ty.cols)))
    return [renamed(side) for side in sides]
