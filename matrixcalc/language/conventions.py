"""What the naming convention decided, told to the user (SPEC sections 2 and 8).

A kind that no declaration fixed came from the convention (upper-case: matrix; Greek:
scalar; other lower-case: vector). Where that choice is likely not what was meant, the
user hears of it, with the declaration that changes it:

- `explain_conventions` adds to a ShapeError the name whose conventional kind clashes
  (`x^T x + k`: "`k` is a vector by the naming convention (a lower-case Latin name):
  declare `where="k: scalar"`"), only where that declaration, tried, makes the input type;
- `kind_warning` finds a lower-case Latin name that the convention makes a vector where
  it stands only as the leading coefficient of a scalar (`k/2 ||w||^2`, `t x^T x`, `n/2
  logdet(S)`), so that the whole function is a vector or a matrix: typing the input
  again with that name a scalar must succeed and make the function a scalar. Like rule
  3, it leaves upper-case names alone (`X det(A)` is a matrix as meant).

Both only read trees and type them again; neither changes a kind.
"""

from __future__ import annotations

import os
import sys
import warnings

from ..errors import KindWarning, MatrixCalcError, ShapeError
from .declarations import Declaration, convention_reason
from .expr import Apply, Dimension, Expr, Number, Symbol, walk
from .infer import Inference, try_infer

# The kinds a declaration may give a name instead of its conventional one: the issue is
# always a scalar read as a vector or a matrix, or the other way round.
ALTERNATIVES = {"vector": ("scalar",), "matrix": ("scalar",), "scalar": ("vector", "matrix")}
SHOWN = 60  # the longest input quoted whole in a hint or a warning
MAX_TRIED = 8  # names tried one by one (each a full inference); past that, all at once
MAX_NAMED = 5  # names listed in a warning
CHAIN_OPS = frozenset({"product", "mul", "matmul", "div", "neg"})
FILLS = (" ones", " ones^T", " ones ones^T")  # a scalar spread over a vector, row, matrix


# -- shape errors ----------------------------------------------------------------------------

def explain_conventions(error: ShapeError, roots: list[Expr], kinds: dict[str, str],
                        origins: dict[str, str], declared: dict[str, Declaration],
                        text: str | None) -> None:
    """Add to `error` the first conventional kind among the failing binary operator's
    operands that a declaration (tried) would change so that everything types, and for
    a scalar in a sum, the spelling that spreads it over the entries (`x - mu ones`)."""
    ancestors = getattr(error, "ancestors", [])
    if not ancestors or text is None or len(ancestors[0].args) < 2:
        return  # `tr(x)`, `|x|`: the operator's own message says what it takes
    failing = ancestors[0]
    terms = list(failing.args)
    if failing.op == "add":  # the first term says what the sum is meant to be
        terms = terms[1:] + terms[:1]
        node = getattr(error, "node", None)  # the term a subtraction failed at: `- mu`
        terms.sort(key=lambda term: node is None or term.span != node.span)
    terms = terms[:MAX_TRIED]
    for name, term in _deciding_names(terms, kinds, declared, text):
        if origins.get(name) != "convention" or _elsewhere(name, term, failing.args):
            continue
        kind = next((k for k in ALTERNATIVES[kinds[name]] if try_infer(
            roots, _declaring(declared, {name: k}), text) is not None), None)
        fill = _filled(name, term, declared, text) \
            if failing.op == "add" and kinds[name] == "scalar" else None
        if kind is not None or fill is not None:
            error.with_hint(_hint(name, kinds[name], kind, fill, term))
            return


def _elsewhere(name: str, term: Expr, terms) -> bool:
    """Whether `name` stands in another operand too (`x^T + x`): then its kind is not
    what clashes."""
    return any(isinstance(n, Symbol) and n.name == name
               for other in terms if other is not term for n in walk(other))


def _deciding_names(terms, kinds, declared, text):
    """(name, term) for each operand that is a symbol, or a product in which one symbol
    alone is not a scalar (`2 k`, `α k`): that symbol's kind is the operand's."""
    for term in terms:
        factors = _factors(term)
        named = [f for f in factors if isinstance(f, Symbol)]
        for symbol in named:
            others = [f for f in factors if f is not symbol]
            if all(_types_as_scalar(f, kinds, declared, text) for f in others):
                yield symbol.name, term


def _types_as_scalar(node: Expr, kinds, declared, text) -> bool:
    if isinstance(node, (Number, Dimension)):
        return True
    try:
        return Inference(kinds, declared, text).type(node).ty.is_scalar
    except MatrixCalcError:
        return False


def _hint(name: str, kind: str, alternative: str | None, fill: str | None,
          term: Expr) -> str:
    because = f"`{name}` is a {kind} by the naming convention ({convention_reason(name)})"
    ways = []
    if fill is not None:
        negated = isinstance(term, Apply) and term.op == "neg"
        ways.append(f"to {'subtract it from' if negated else 'add it to'} every entry "
                    f"write `{fill}`")
    if alternative is not None:
        ways.append(f"declare `where=\"{name}: {alternative}\"`")
    return f"{because}: {', or '.join(ways)}"


def _filled(name: str, term: Expr, declared, text: str) -> str | None:
    """The input with the scalar `name` spread over the other terms' shape (`x - mu
    ones`), if `term` is that bare scalar and one of FILLS types; shortened if long."""
    from .parse import parse_raw  # the parser builds on this module
    symbol = term.args[0] if isinstance(term, Apply) and term.op == "neg" else term
    if not isinstance(symbol, Symbol) or symbol.name != name or symbol.span is None:
        return None
    end = symbol.span[1]
    for fill in FILLS:
        candidate = text[:end] + fill + text[end:]
        try:
            typed = try_infer([parse_raw(candidate)], declared, candidate)
        except MatrixCalcError:
            typed = None
        if typed is not None:
            return candidate if len(candidate) <= SHOWN else f"{name}{fill}"
    return None


def _declaring(declared: dict[str, Declaration], kinds: dict[str, str]):
    """`declared` with the named symbols given these kinds (their assumptions kept)."""
    out = dict(declared)
    for name, kind in kinds.items():
        old = declared.get(name, Declaration(None, frozenset()))
        out[name] = Declaration(kind, old.assumptions, old.dims if kind == old.kind else None)
    return out


# -- the warning -----------------------------------------------------------------------------

def kind_warning(typed: list[Expr], raw: list[Expr], declared: dict[str, Declaration],
                 text: str | None, functions: int = 1) -> str | None:
    """The KindWarning's message for these typed roots (the first `functions` of them are
    the functions; a statement's variable follows), or None."""
    roots = typed[:functions]
    if all(root.ty.is_scalar for root in roots):
        return None
    infos = {name: info for root in typed for name, info in root.shapes.items()}
    leading: dict[str, bool] = {}
    for root in roots:
        _coefficients(root, leading)
    candidates = [name for name, only in leading.items() if only
                  and infos[name].origin == "convention" and infos[name].kind == "vector"]
    if not candidates:
        return None
    inferred = {name: "scalar" for name, info in infos.items()
                if info.origin == "inferred scalar"}

    def scalar_if(names) -> bool:
        again = try_infer(raw, _declaring(declared, {**inferred, **dict.fromkeys(
            names, "scalar")}), text)
        return again is not None and all(root.ty.is_scalar for root in again[:functions])

    found = [name for name in candidates[:MAX_TRIED] if scalar_if([name])]
    if not found and len(candidates) > 1 and scalar_if(candidates):
        found = candidates
    whole = text if functions == len(typed) == 1 else None  # a statement: "the function"
    return _warning_text(found, infos, roots[0], whole) if found else None


def _factors(node: Expr) -> list[Expr]:
    """The factors of a product chain (mul, matmul, division, a sign), left to right; a
    divisor is one factor."""
    if isinstance(node, Apply) and node.op in CHAIN_OPS:
        if node.op == "neg":
            return _factors(node.args[0])
        if node.op == "div":
            return _factors(node.args[0]) + [node.args[1]]
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]


def _coefficients(node: Expr, leading: dict[str, bool]) -> None:
    """Record, for each symbol under `node`, whether every occurrence so far leads a
    product chain whose other factors multiply to a scalar of vectors or matrices (`k`
    in `k/2 ||w||^2`); one pass over the tree."""
    if isinstance(node, Symbol):
        leading[node.name] = False  # standing alone, or as an operator's argument
    elif isinstance(node, Apply) and node.op not in CHAIN_OPS:
        for arg in node.args:
            _coefficients(arg, leading)
    elif isinstance(node, Apply):
        factors = _factors(node)
        arrays = [_holds_array(f) for f in factors]
        for i, factor in enumerate(factors):
            if isinstance(factor, Symbol):
                ok = _leads_a_scalar(factors, arrays, i)
                leading[factor.name] = leading.get(factor.name, True) and ok
            else:
                _coefficients(factor, leading)


def _leads_a_scalar(factors: list[Expr], arrays: list[bool], i: int) -> bool:
    """Factor i comes first but for plain scalars (`2 k …`), and the others multiply to a
    scalar that depends on a vector or a matrix (`x^T x`, `||w||^2`, `logdet(S)`), as
    `arrays` says of each factor: so `α x`, `2 x`, `sum(y) x` and `A x` do not qualify."""
    if any(not f.ty.is_scalar or held for f, held in zip(factors[:i], arrays[:i])):
        return False
    others = factors[:i] + factors[i + 1:]
    shapes = [f.ty for f in others if not f.ty.is_scalar]
    scalar = not shapes or (not shapes[0].rows and not shapes[-1].cols)
    return scalar and any(arrays[:i] + arrays[i + 1:])


def _holds_array(node: Expr) -> bool:
    return any(isinstance(n, Symbol) and n.info is not None and n.info.kind != "scalar"
               for n in walk(node))


def _warning_text(names: list[str], infos, root: Expr, text: str | None) -> str:
    """Every name found is a conventional vector, a lower-case Latin name; a long list is
    cut to its first few."""
    what = f"`{text}`" if text is not None and len(text) <= SHOWN else "the function"
    if len(names) == 1:
        (name,) = names
        return (f"`{name}` is a vector by the naming convention ({convention_reason(name)}), "
                f"so {what} is {root.ty.describe()}, not a scalar: if `{name}` is a scalar, "
                f"declare `where=\"{name}: scalar\"` (`where=\"{name}: vector\"` keeps "
                "the convention's kind and silences this warning)")
    quoted = [f"`{n}`" for n in names[:MAX_NAMED]]
    if len(names) > MAX_NAMED:
        quoted.append(f"{len(names) - MAX_NAMED} more")
    shown = ", ".join(names[:MAX_NAMED]) + (", …" if len(names) > MAX_NAMED else "")
    return (f"{', '.join(quoted[:-1])} and {quoted[-1]} are "
            f"vectors by the naming convention (lower-case Latin names), so {what} is "
            f"{root.ty.describe()}, not a scalar: if they are scalars, declare "
            f"`where=\"{shown}: scalar\"` (`: vector` keeps the convention's kind and "
            "silences this warning)")


def warn_kinds(message: str | None) -> None:
    """Issue the KindWarning at the first caller outside matrixcalc (the user's line)."""
    if message is None:
        return
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # matrixcalc/
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, KindWarning, stacklevel=level)
