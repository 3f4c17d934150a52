"""Numeric evaluation of expression trees, on numpy or torch, from the operator table.

Internally every value is a 2-D float64 array (scalars 1×1, vectors n×1, row vectors
1×n); each operator's `evaluate` lambda in `matrixcalc.ops` computes its node from its
arguments' values, and this module only supplies leaves, sizes and conversions. The
user-facing forms (SPEC section 5): scalars are floats, vectors 1-D arrays, row vectors
and matrices 2-D arrays, derivative tensors in the layout of `torch.func.jacrev` (the
output's dimensions, then the variable's: SPEC section 3).

Derivatives of order 3 or 4 have no matrix form; their closed forms are evaluated as the
"matrix form" ∂vec(F)/∂vec(X) (`vec` stacks columns) and reshaped into the jacrev layout
by `to_jacrev_layout`; pass `layout=Layout(of=F.ty, wrt=X.ty)` to `evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from math import prod
from typing import Any

import numpy as np

from ..errors import UnsupportedError, UsageError
from ..language.expr import Apply, Const, Dimension, Expr, Number, Symbol, SymbolInfo, untyped
from ..language.shapes import SCALAR, Dim, Shape, dim_size, normalize
from ..ops import lookup
from ..ops.spec import version
from .backends import backend

SizeOf = Callable[[Dim], int]
Guard = Callable[[Apply, int, Any], None]


# -- the evaluator -----------------------------------------------------------------------------

def run(expr: Expr, env: Mapping[str, Any], B, size_of: SizeOf,
        guard: Guard | None = None) -> Any:
    """The 2-D value of `expr` with symbols bound in `env` (2-D arrays of backend B).

    `guard(node, position, value)` (numpy only) may veto an argument outside its domain.
    """
    cache: dict[int, Any] = {}

    def value(node: Expr) -> Any:
        key = id(node)
        if key in cache:
            return cache[key]
        if isinstance(node, Symbol):
            if node.name not in env:
                raise UsageError(f"missing input `{node.name}`: pass a value for it")
            out = env[node.name]
        elif isinstance(node, Number):
            out = B.scalar(node.as_float())
            if node.ty is not None and not node.ty.is_scalar:  # a zero of a derivative's shape
                out = out * B.ones(size_of(node.ty.rows)) @ B.ones(size_of(node.ty.cols)).T
        elif isinstance(node, Const):
            out = _constant(node, B, size_of)
        elif isinstance(node, Dimension):
            out = B.scalar(float(size_of((node.name,))))
        elif isinstance(node, Apply):
            spec = lookup(node.op)
            if spec.evaluate is None and not spec.definition:
                raise UnsupportedError(f"operator `{node.op}` has no numeric evaluation",
                                       hint="add `evaluate=` to its OpSpec in matrixcalc/ops")
            args = [value(arg) for arg in node.args]
            if guard is not None:
                for position, arg in enumerate(args):
                    guard(node, position, arg)
            out = spec.evaluate(B, node, *args) if spec.evaluate is not None \
                else run_definition(node.op, args[0], B)
            if node.ty is not None:
                expected = (size_of(node.ty.rows), size_of(node.ty.cols))
                if tuple(out.shape) != expected:
                    raise UnsupportedError(
                        f"operator `{node.op}` evaluated to an array of shape "
                        f"{tuple(out.shape)}, expected {expected}: a bug in its `evaluate`")
        else:
            raise TypeError(f"not an expression node: {node!r}")
        cache[key] = out
        return out

    return value(expr)


def run_definition(op: str, x: Any, B) -> Any:
    """An elementwise function by its record's `definition` (an expression in the scalar
    x), entry by entry: the value of the definition's tree with x bound to `x` (a record
    with a definition and no `evaluate` is evaluated so)."""
    return run(_definition_tree(lookup(op).definition, version()), {"x": x}, B, _no_sizes)


@lru_cache(maxsize=256)
def _definition_tree(text: str, table_version: int) -> Expr:
    """The definition's tree, as the operator table of `table_version` reads it."""
    from ..language.parse import parse
    return untyped(parse(text, {"x": "scalar"}))  # x stands for an array: no shape checks


def _no_sizes(dim) -> int:
    raise UnsupportedError("a function's definition holds no sized constant")


def _constant(node: Const, B, size_of: SizeOf) -> Any:
    if node.ty is None:
        raise UsageError(f"`{node.name}` has no inferred size: build it with mc.parse")
    n = size_of(node.ty.rows)
    if node.name == "I":
        return B.eye(n)
    if node.name == "ones":
        return B.ones(n)
    raise UnsupportedError(f"unknown constant `{node.name}`")


# -- conversions between user forms and 2-D arrays ------------------------------------------

def user_dims(shape: Shape, size_of: SizeOf) -> tuple[int, ...]:
    """The numpy shape of a value of `shape`: (), (n,), (1, n) or (m, n)."""
    kind = shape.kind
    if kind == "scalar":
        return ()
    if kind == "vector":
        return (size_of(shape.rows),)
    return (size_of(shape.rows), size_of(shape.cols))


def to_user(value: Any, shape: Shape, B, size_of: SizeOf) -> Any:
    """A 2-D value in its user form: float (numpy) / 0-d tensor (torch), 1-D, 2-D."""
    dims = user_dims(shape, size_of)
    if dims == () and B.name == "numpy":
        return float(np.asarray(value).reshape(()))
    return value.reshape(dims)


def to_internal(name: str, kind: str, value: Any, B) -> Any:
    """A user's value for a symbol of `kind` as a 2-D float64 array; UsageError if unfit
    (complex values too: the engine is real, and a cast would drop the imaginary part)."""
    if is_complex(value):
        raise UsageError(f"the value of `{name}` is complex; matrixcalc computes with real "
                         "numbers", hint="pass the real part (or split real and imaginary "
                                         "parts into two inputs)")
    try:
        array = B.asarray(value)
    except (TypeError, ValueError) as error:
        raise UsageError(f"the value of `{name}` is not numeric: {error}") from None
    shape = tuple(array.shape)
    if kind == "scalar":
        if prod(shape) != 1:
            raise UsageError(f"`{name}` is a scalar; got an array of shape {shape}")
        return array.reshape(1, 1)
    if kind == "vector":
        if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
            return array.reshape(-1, 1)
        raise UsageError(f"`{name}` is a vector: pass a 1-D array, not shape {shape}")
    if len(shape) != 2:
        raise UsageError(f"`{name}` is a matrix: pass a 2-D array, not shape {shape}")
    return array


def is_complex(value: Any) -> bool:
    """Whether a user's value (a number, list, numpy array or torch tensor) is complex."""
    tensor_test = getattr(value, "is_complex", None)  # a torch tensor
    if callable(tensor_test) and not isinstance(value, (complex, np.generic)):
        return bool(tensor_test())
    try:
        return bool(np.iscomplexobj(value))
    except (TypeError, ValueError):
        return False  # not an array at all: to_internal says so


def bind_sizes(infos: Mapping[str, SymbolInfo], env: Mapping[str, Any],
               given: Mapping[str, int] | None = None) -> dict[str, int]:
    """Sizes of the dimension names, read off the shapes of the inputs `env` holds (the
    symbols `infos` describes); UsageError on conflict."""
    sizes: dict[str, int] = {name: _given_size(name, n) for name, n in (given or {}).items()}
    source: dict[str, str] = {name: "sizes=" for name in sizes}
    pending = []
    for name, value in env.items():
        info = infos[name]
        for dim, size in ((info.rows, value.shape[0]), (info.cols, value.shape[1])):
            pending.append((name, info, dim, int(size)))
    progress = True
    while pending and progress:
        progress, left = False, []
        for name, info, dim, size in pending:
            known = prod(a if isinstance(a, int) else sizes.get(a, 1) for a in dim)
            unknown = [a for a in dim if isinstance(a, str) and a not in sizes]
            if len(unknown) > 1:
                left.append((name, info, dim, size))
                continue
            progress = True
            if unknown and size % known == 0 and size // known >= 1:
                sizes[unknown[0]] = size // known
                source[unknown[0]] = name
                continue
            if not unknown and known == size:
                continue
            expected = info.shape.describe()
            bound = ", ".join(f"{a} = {sizes[a]} (from `{source[a]}`)" for a in dim
                              if isinstance(a, str) and a in sizes)
            raise UsageError(f"wrong shape for `{name}`: it is {expected}"
                             + (f" with {bound}" if bound else "")
                             + f", but the array has shape {_user_shape(env[name], info)}")
        pending = left
    if pending:
        names = sorted({a for _, _, dim, _ in pending for a in dim if isinstance(a, str)})
        raise UsageError(f"cannot tell the sizes {', '.join(names)} from the inputs",
                         hint=_sizes_hint(names))
    return sizes


def _given_size(name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UsageError(f"sizes={{{name!r}: {n!r}}}: a dimension's size is a positive integer")
    return int(n)


def _sizes_hint(names) -> str:
    example = ", ".join(f"{n!r}: {k}" for k, n in enumerate(names, start=3))
    return f"pass evaluate(values, sizes={{{example}}}), or a value for a symbol of that size"


def _user_shape(value: Any, info) -> tuple:
    shape = tuple(value.shape)
    return (shape[0],) if info.kind == "vector" else shape


def size_function(sizes: Mapping[str, int]) -> SizeOf:
    def size_of(dim: Dim) -> int:
        try:
            return dim_size(dim, sizes)
        except KeyError as missing:
            atom = missing.args[0]
            raise UsageError(f"the size of the dimension `{atom}` is not determined "
                             "by the inputs", hint=_sizes_hint([atom])) from None
    return size_of


# -- derivative layouts (SPEC section 3) -------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """Marks a value as the derivative of order `order` of a quantity shaped `of` with
    respect to a variable shaped `wrt`: its user form is jacrev's
    `user_dims(of) + user_dims(wrt) * order`."""

    of: Shape
    wrt: Shape
    order: int = 1

    def matrix_shape(self) -> Shape:
        shape = self.of
        for _ in range(self.order):
            shape = matrix_form(shape, self.wrt)
        return shape

    def user_dims(self, size_of: SizeOf) -> tuple[int, ...]:
        return user_dims(self.of, size_of) + user_dims(self.wrt, size_of) * self.order


def matrix_form(of: Shape, wrt: Shape) -> Shape:
    """The 2-D shape in which d(of)/d(wrt) is written in the language (SPEC section 3):
    scalar by anything: shaped like the variable; anything by a scalar: shaped like the
    quantity; vector by vector: the Jacobian; otherwise ∂vec(F)/∂vec(X)."""
    if of.is_scalar:
        return wrt
    if wrt.is_scalar:
        return of
    if of.kind == "vector" and wrt.kind == "vector":
        return Shape(of.rows, wrt.rows)
    return Shape(normalize(of.rows + of.cols), normalize(wrt.rows + wrt.cols))


def to_jacrev_layout(value: Any, dims: tuple[int, ...], B=None) -> Any:
    """A 2-D matrix form (∂vec(F)/∂vec(X), columns stacked) reshaped to jacrev's layout.

    For F (p×q) and X (m×n): T[i, j, k, l] = M[i + p j, k + m l]. For the standard cases
    (gradient, matrix-shaped derivative, Jacobian) this is the identity up to dropping
    unit axes."""
    B = B or backend("numpy")
    if prod(tuple(value.shape)) != prod(dims):
        raise UsageError(f"a derivative of {prod(tuple(value.shape))} entries cannot have "
                         f"the layout {dims}")
    return B.reshape_fortran(value, dims)


def from_jacrev_layout(tensor: Any, of_dims: tuple[int, ...], B=None) -> Any:
    """The inverse: a jacrev-layout tensor as the matrix ∂vec(F)/∂vec(X)."""
    B = B or backend("numpy")
    rows = prod(of_dims)
    return B.reshape_fortran(tensor, (rows, prod(tuple(tensor.shape)) // max(rows, 1)))


# -- the public entry point --------------------------------------------------------------------

def evaluate(expr: Expr, values: Mapping[str, Any], *, sizes: Mapping[str, int] | None = None,
             layout: Layout | None = None) -> Any:
    """Evaluate with numpy (SPEC section 5): vectors 1-D, matrices and row vectors 2-D,
    scalars floats; symbols not in `expr` are ignored. `sizes` names dimensions no input
    fixes (as in `tr(I)`); `layout` (or `expr.layout`) marks a derivative to be returned
    in jacrev layout."""
    if not isinstance(expr, Expr):
        raise UsageError(f"evaluate takes an expression, not {type(expr).__name__}")
    if not isinstance(values, Mapping):
        raise UsageError("evaluate takes a dict of input values by symbol name")
    B = backend("numpy")
    env = {}
    for symbol in expr.symbols():
        if symbol.info is None:
            raise UsageError(f"`{symbol.name}` has no inferred kind: build it with mc.parse")
        if symbol.name not in values:
            raise UsageError(f"missing input `{symbol.name}` ({symbol.info.describe()})")
    infos = expr.shapes  # with the input's symbols a derivative remembers
    for name, info in infos.items():
        if name in values:
            env[name] = to_internal(name, info.kind, values[name], B)
    size_of = size_function(bind_sizes(infos, env, sizes))
    try:
        value = run(expr, env, B, size_of)
    except np.linalg.LinAlgError as error:  # the checker redraws on it; a user is told
        raise UsageError(f"`{expr}` has no value at these inputs: {error} (a matrix it "
                         "inverts or factors is singular or not positive definite)") from None
    layout = layout or getattr(expr, "layout", None)
    if layout is not None:
        result = to_jacrev_layout(value, layout.user_dims(size_of), B)
        return float(result) if result.shape == () else result
    return to_user(value, expr.ty or SCALAR, B, size_of)


__all__ = ["Layout", "bind_sizes", "evaluate", "from_jacrev_layout", "is_complex",
           "matrix_form", "run", "size_function", "to_internal", "to_jacrev_layout", "to_user",
           "user_dims"]
