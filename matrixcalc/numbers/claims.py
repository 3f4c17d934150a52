"""A claim as an evaluator: at a random draw, the pairs of values that must agree.

A derivative claim (`_build_claim`, `_DerivativeClaim`) pairs, per variable,
torch.func.jacrev (applied `order` times) of F with the claimed derivative, both in jacrev
layout; an equality (`_equality`) pairs its two sides. All the symbols of a claim are
unified in one sampling Problem; dimensions declared by name (`A: matrix(m, n)`) stay
distinct: the two sides of a statement are never unified by equating them. An evaluator
can be asked for with another right side (the diagnosis's alternatives), which must keep
the claim's shape (else `_NotApplicable`). Torch is imported only inside functions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import MatrixCalcError, ShapeError, UsageError
from ..language.declarations import parse_where
from ..language.expr import Apply, Expr, Number, Symbol, walk
from ..language.parse import Statement
from ..language.shapes import Shape
from .backends import backend
from .numeric import Layout, run, to_jacrev_layout, user_dims
from .sampling import Draw, OutOfDomain, Problem, domain_guard


def _is_zero_literal(node: Expr) -> bool:
    while isinstance(node, Apply) and node.op == "neg":
        node = node.args[0]
    return isinstance(node, Number) and node.value == 0


Evaluate = Callable[[Draw], list[tuple[Any, Any]]]  # a draw's (truth, claimed) pairs


class _NotApplicable(Exception):
    """An alternative right side that the shapes do not allow (at some draw)."""


# -- the derivative claim --------------------------------------------------------------------

@dataclass
class _Target:
    """One variable and what is claimed to be the derivative with respect to it."""

    symbol: Symbol
    layout: Layout
    result: Expr | Callable | None  # None: the literal zero
    ns: int
    guarded: bool = False  # an alternative right side: its shape is checked (_NotApplicable)


class _DerivativeClaim:
    """F and, per variable, a claimed derivative; all symbols unified in one Problem."""

    def __init__(self, problem: Problem, f: Expr, targets: list[_Target], order: int) -> None:
        self.problem, self.f, self.targets, self.order = problem, f, targets, order

    def evaluate(self, draw: Draw) -> list[tuple[Any, Any]]:
        """(autograd, claimed) per variable, in jacrev layout; OutOfDomain to redraw."""
        np_backend = backend("numpy")
        size0 = self._size_of(0, draw)
        f_value = run(self.f, draw.values, np_backend, size0, domain_guard)
        _finite(f_value)
        pairs = []
        for target in self.targets:
            dims = target.layout.user_dims(size0)
            claimed = self._claimed(target, draw, dims)
            _finite(claimed)
            truth = _autograd(self.f, draw.values, target.symbol, size0, self.order)
            _finite(truth)
            pairs.append((truth, claimed))
        return pairs

    def evaluator(self, result: Expr | None = None) -> Evaluate:
        """`evaluate` as claimed (None), or with another right side (a one-variable
        claim), which must have the derivative's shape at every draw (else _NotApplicable)."""
        if result is None:
            return self.evaluate
        target = replace(self.targets[0], result=result, guarded=True)
        return _DerivativeClaim(self.problem, self.f, [target], self.order).evaluate

    def _size_of(self, ns: int, draw: Draw):
        return lambda dim: self.problem.size(ns, dim, draw.sizes)

    def _claimed(self, target: _Target, draw: Draw, dims: tuple[int, ...]) -> Any:
        if target.result is None:
            return np.zeros(dims)
        if isinstance(target.result, Expr):
            value = run(target.result, draw.values, backend("numpy"),
                        self._size_of(target.ns, draw), domain_guard)
            if target.guarded:
                _same_shape(value, target.layout.matrix_shape(), self._size_of(0, draw))
            return to_jacrev_layout(value, dims)
        inputs = _user_inputs(self.problem, draw)
        try:
            value = np.asarray(target.result(inputs), dtype=np.float64)
        except MatrixCalcError:
            raise
        except Exception as error:  # a user's callable failed: say so plainly
            raise UsageError(f"the `result` callable raised {type(error).__name__}: "
                             f"{error}") from None
        if value.shape != dims:
            raise UsageError(f"the `result` callable returned shape {value.shape}; the "
                             f"derivative's jacrev layout is {dims}")
        return value


def _same_shape(value: Any, shape: Shape, size_of) -> None:
    """An alternative right side must keep the claim's 2-D shape: a reshape would hide a
    transpose of a non-square value (distinct dimensions have distinct sizes)."""
    if tuple(np.shape(value)) != (size_of(shape.rows), size_of(shape.cols)):
        raise _NotApplicable


def _finite(value: Any) -> None:
    if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
        raise OutOfDomain("a non-finite value")


def _user_inputs(problem: Problem, draw: Draw) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in problem.symbols.items():
        value = draw.values[name]
        if spec.kind == "scalar":
            out[name] = float(value[0, 0])
        elif spec.kind == "vector":
            out[name] = value.reshape(-1).copy()
        else:
            out[name] = value.copy()
    return out


def _autograd(f: Expr, values: dict[str, np.ndarray], wrt: Symbol, size_of,
              order: int) -> np.ndarray:
    """torch.func.jacrev (applied `order` times) of f through the torch tree evaluator."""
    from ..optional import require
    torch = require("torch", "the numeric checker (check, verify)")
    from torch.func import jacrev

    torch_backend = backend("torch")
    env = {name: torch.from_numpy(np.array(v)) for name, v in values.items()}
    internal = tuple(env[wrt.name].shape)
    out_dims = user_dims(f.ty, size_of)

    def function(w):
        inputs = dict(env)
        inputs[wrt.name] = w.reshape(internal)
        return run(f, inputs, torch_backend, size_of).reshape(out_dims)

    derivative = function
    for _ in range(order):
        derivative = jacrev(derivative)
    start = env[wrt.name].reshape(user_dims(wrt.info.shape, size_of))
    return derivative(start).detach().numpy()


def _build_claim(e: Expr, wrt_symbols: list[Symbol], results: list, order: int,
                 text: str | None, shared: bool,
                 typed_apart: set[int] = frozenset(),
                 rigid: frozenset[str] = frozenset()) -> _DerivativeClaim:
    """Unify F, the variables and the claimed derivatives in one Problem.

    `shared`: the results were typed in e's context already (a statement), namespace 0.
    `rigid`: dimension names (namespace 0) that must stay distinct.
    """
    problem = Problem(text)
    problem.add_root(0, e)
    targets = []
    for index, (symbol, result) in enumerate(zip(wrt_symbols, results)):
        problem.add_root(0, symbol)
        layout = Layout(e.ty, symbol.info.shape, order)
        ns = 0 if shared or (id(result) not in typed_apart and _in_context(result, e, symbol)) \
            else index + 1
        if isinstance(result, Expr):
            problem.add_root(ns, result)
            expected = layout.matrix_shape()
            if not _unify(problem, ns, result.ty, expected, rigid):
                if result.ty.is_scalar and _is_zero_literal(result):
                    result = None
                else:
                    raise _mismatch(problem, e, symbol, result, ns, expected, order, text)
        targets.append(_Target(symbol, layout, result, ns))
    return _DerivativeClaim(problem, e, targets, order)


def _unify(problem: Problem, ns: int, a: Shape, b: Shape, rigid: frozenset[str]) -> bool:
    """problem.unify_shapes(ns, a, 0, b), refused (nothing bound) where it would equate
    two of the `rigid` names: declared dimensions are distinct ones, as in `parse`."""
    if not rigid:
        return problem.unify_shapes(ns, a, 0, b)
    saved = copy.deepcopy(problem.sizes.unifier)
    if problem.unify_shapes(ns, a, 0, b) and _apart(problem, rigid):
        return True
    problem.sizes.unifier = saved
    return False


def _apart(problem: Problem, names: frozenset[str]) -> bool:
    sizes = problem.sizes
    return len({sizes.unifier.resolve(sizes.var(0, (name,))) for name in names}) == len(names)


def _declared_dims(where) -> frozenset[str]:
    return frozenset(dim for decl in parse_where(where).values() for dim in decl.dims or ()
                     if isinstance(dim, str))


def _in_context(result, e: Expr, wrt: Symbol) -> bool:
    """Whether an Expr result was typed in e's context (as the engine's results are):
    its symbols have e's kinds and dimensions, and it names no dimension e lacks. Such a
    result shares e's dimension names, also where nothing but an I or ones carries them."""
    if not isinstance(result, Expr):
        return False
    known = dict(e.shapes)
    if wrt.info is not None:
        known.setdefault(wrt.name, wrt.info)
    names = {a for info in known.values() for a in info.rows + info.cols
             if isinstance(a, str)}
    names |= {a for node in walk(e) if node.ty is not None
              for a in node.ty.rows + node.ty.cols if isinstance(a, str)}
    for name, info in result.shapes.items():
        if name not in known or (known[name].rows, known[name].cols) != (info.rows, info.cols):
            return False
    used = {a for node in walk(result) if node.ty is not None
            for a in node.ty.rows + node.ty.cols if isinstance(a, str)}
    return used <= names


def _mismatch(problem, e, symbol, result, ns, expected, order, text) -> ShapeError:
    what = "second derivative" if order == 2 else "derivative"
    span = result.span
    if text is not None and "=" in text:
        at = text.index("=")
        span = (at, at + 1)
    return ShapeError(f"the two sides differ in shape: the {what} of "
                      f"{problem.describe(0, e.ty)} by {problem.describe(0, symbol.ty)} is "
                      f"{problem.describe(0, expected)}, the claim is "
                      f"{problem.describe(ns, result.ty)}", text, span,
                      hint="a derivative of order 3 or 4 is written as the matrix "
                           "∂vec(F)/∂vec(X)" if not expected.kind == result.ty.kind else None)


# -- the equality claim ----------------------------------------------------------------------

def _equality(stmt: Statement, rigid: frozenset[str] = frozenset()):
    problem = Problem(stmt.text)
    problem.add_root(0, stmt.lhs)
    problem.add_root(0, stmt.rhs)
    zero_side = None
    if not _unify(problem, 0, stmt.lhs.ty, stmt.rhs.ty, rigid):
        for side, node in (("lhs", stmt.lhs), ("rhs", stmt.rhs)):
            if node.ty.is_scalar and _is_zero_literal(node):
                zero_side = side
        if zero_side is None:
            at = stmt.text.index("=")
            raise ShapeError(f"the two sides differ in shape: the left is "
                             f"{problem.describe(0, stmt.lhs.ty)}, the right "
                             f"{problem.describe(0, stmt.rhs.ty)}", stmt.text, (at, at + 1))
    np_backend = backend("numpy")
    shape = stmt.lhs.ty if zero_side == "rhs" else stmt.rhs.ty  # the non-zero side

    def evaluator(rhs: Expr | None = None) -> Evaluate:
        """As claimed (None), or with another right side, which must keep the shape."""
        sides = (stmt.lhs, stmt.rhs if rhs is None else rhs)

        def evaluate(draw: Draw) -> list[tuple[Any, Any]]:
            size_of = lambda dim: problem.size(0, dim, draw.sizes)  # noqa: E731
            values = []
            for node in sides:
                value = run(node, draw.values, np_backend, size_of, domain_guard)
                _finite(value)
                values.append(value)
            if rhs is not None:
                _same_shape(values[1], shape, size_of)
            if zero_side is not None:
                other = values[1] if zero_side == "lhs" else values[0]
                values[0 if zero_side == "lhs" else 1] = np.zeros_like(other)
            dims = user_dims(shape, size_of)
            return [(values[0].reshape(dims), values[1].reshape(dims))]

        return evaluate

    return problem, evaluator
