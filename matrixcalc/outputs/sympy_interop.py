"""SymPy interop: `to_sympy` gives a SymPy matrix expression, `from_sympy` reads one back.

Shared operators map one to one: MatrixSymbol, Identity, OneMatrix, ZeroMatrix, MatAdd,
MatMul, Transpose, Inverse, MatPow, Trace, Determinant, HadamardProduct, HadamardPower,
KroneckerProduct, DiagMatrix, DiagonalOf, elementwise functions (ElementwiseApplyFunction
on matrices, plain functions on scalars) and explicit matrices (bracket literals).
Invariant: a round trip preserves meaning, not necessarily form. SymPy has no scalar
that is a 1×1 matrix, so a scalar-valued matrix product used as a scalar becomes
`Trace(…)` of the 1×1 product (`tr` of a scalar is the scalar itself); `sum` becomes
`1ᵀ X 1`, norms `sqrt(tr(xᵀx))`, `mean` a sum over the size. Operators SymPy lacks (vec,
softmax, logsumexp, norm1) raise UnsupportedError naming the operator. `from_sympy` writes
the expression in the input language (fully parenthesized, names checked) and parses it,
declaring each symbol's kind from its SymPy shape. SymPy is imported only here.
"""

from __future__ import annotations

import re
from functools import reduce
from typing import Any

import sympy
from sympy.matrices import expressions as _matrices
from sympy.matrices.expressions import (
    Determinant,
    HadamardPower,
    HadamardProduct,
    Identity,
    Inverse,
    KroneckerProduct,
    MatAdd,
    MatMul,
    MatPow,
    MatrixExpr,
    MatrixSymbol,
    OneMatrix,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement

from ..errors import UnsupportedError, UsageError
from ..index import scalars
from ..language.expr import Apply, Const, Dimension, Expr, Number, Symbol
from ..language.shapes import Dim
from ..ops.spec import lookup
from ..guard import public

UNSUPPORTED_HINT = "SymPy's matrix expressions have no counterpart for it"


def _dim(dim: Dim, sizes: dict[str, int]) -> Any:
    factors = [sympy.Integer(a) if isinstance(a, int)
               else sympy.Integer(sizes[a]) if a in sizes
               else sympy.Symbol(a, integer=True, positive=True) for a in dim]
    return sympy.Mul(*factors) if factors else sympy.Integer(1)


def _scalar(value: Any) -> Any:
    """A scalar-valued 1×1 matrix expression as a SymPy scalar: its trace."""
    return Trace(value) if isinstance(value, MatrixExpr) else value


@public
def to_sympy(expr, sizes: dict[str, int] | None = None, where=None):
    """The SymPy matrix expression of `expr` (text or Expr). Dimensions are SymPy
    symbols (integer, positive) named as matrixcalc names them, or the integers given
    in `sizes` ({"n": 3}). Scalar symbols are real SymPy symbols. A derivative of order
    3 or 4 is an explicit `sympy.Array` in jacrev layout, for the sizes given."""
    from ..language.parse import as_expr

    e = as_expr(expr, where, tensors=True)
    sizes = dict(sizes or {})
    if e.is_tensor:
        return _explicit_tensor(e, sizes)
    memo: dict[int, Any] = {}

    def convert(node: Expr) -> Any:
        if id(node) not in memo:
            memo[id(node)] = _convert(node, convert, sizes)
        return memo[id(node)]

    return convert(e)


def _explicit_tensor(t, sizes: dict[str, int]):
    """An order-3/4 derivative as an explicit array: its einsum products
    (calculus.tensor.einsum_plan) over arrays of SymPy entries. SymPy's array expressions
    cannot hold copy tensors reliably, so the sizes must be numbers."""
    import numpy as np

    from ..calculus.tensor import einsum_plan
    from ..language.shapes import dim_size
    atoms = sorted({a for d in t.dims for a in d if isinstance(a, str)} |
                   {a for info in t.shapes.values() for a in info.rows + info.cols
                    if isinstance(a, str)})
    missing = [a for a in atoms if a not in sizes]
    if missing:
        example = ", ".join(f"{a!r}: {k}" for k, a in enumerate(missing, start=2))
        raise UnsupportedError("to_sympy of a derivative of order 3 or 4 gives an explicit "
                               "array: it needs a number for every dimension",
                               hint=f"pass sizes={{{example}}}")
    out = np.zeros(tuple(dim_size(d, sizes) for d in t.dims), dtype=object)
    numbers = {scalars.SizeSymbol(a): sizes[a] for a in atoms}
    for product in einsum_plan(t):
        arrays = [_explicit(op, sizes) for op in product.operands]
        spec = ",".join(op.subscripts for op in product.operands) + "->" + product.output
        out = out + product.coeff.subs(numbers) * np.einsum(spec, *arrays)
    return sympy.Array(out.tolist())


def _explicit(op, sizes: dict[str, int]):
    """One einsum operand as an array of SymPy entries."""
    import numpy as np

    from ..index.ir import Factor
    from ..language.shapes import dim_size
    if op.kind in ("eye", "ones"):
        n = dim_size(op.dims[0], sizes)
        return np.array(sympy.eye(n).tolist() if op.kind == "eye" else [1] * n, dtype=object)
    if op.kind == "pair":
        p, q = (dim_size(d, sizes) for d in op.dims)
        return np.array(sympy.eye(p * q).tolist(), dtype=object).reshape(p * q, p, q)
    value = to_sympy(op.expr, sizes)
    entries = value.as_explicit().tolist() if isinstance(value, MatrixExpr) else value
    dims = tuple(dim_size(d, sizes) for d in Factor(op.expr, ()).dims())
    return np.array(entries, dtype=object).reshape(dims)


def _convert(node: Expr, convert, sizes) -> Any:
    ty = node.ty
    rows, cols = _dim(ty.rows, sizes), _dim(ty.cols, sizes)
    if isinstance(node, Symbol):
        if ty.is_scalar:
            return sympy.Symbol(node.name, real=True)
        return MatrixSymbol(node.name, rows, cols)
    if isinstance(node, Number):
        value = sympy.Rational(node.value.numerator, node.value.denominator)
        if ty.is_scalar:
            return value
        return ZeroMatrix(rows, cols) if value == 0 else value * OneMatrix(rows, cols)
    if isinstance(node, Const):
        return Identity(rows) if node.name == "I" else OneMatrix(rows, 1)
    if isinstance(node, Dimension):
        return _dim((node.name,), sizes)
    if not isinstance(node, Apply):
        raise TypeError(f"not an expression node: {node!r}")
    convert_op = lookup(node.op).sympy_matrix
    if convert_op is None:
        raise UnsupportedError(f"to_sympy: the operator `{node.op}` has no SymPy counterpart",
                               hint=UNSUPPORTED_HINT)
    return convert_op(Interop(rows, cols), node, [convert(a) for a in node.args])


class Interop:
    """What a record's `sympy_matrix(S, node, args)` is given: SymPy's matrix expression
    classes (as attributes, e.g. `S.Trace`), the node's SymPy dimensions, and the ways
    shared between operators of writing a node as a matrix expression."""

    def __init__(self, rows, cols) -> None:
        self.rows, self.cols = rows, cols

    def __getattr__(self, name: str):
        return getattr(_matrices, name, None) or getattr(sympy, name)

    scalar = staticmethod(_scalar)

    def add(self, node, args):
        if node.ty.is_scalar:
            return sympy.Add(*[_scalar(a) for a in args])
        return MatAdd(*[a if isinstance(a, MatrixExpr) else a * OneMatrix(self.rows, self.cols)
                        for a in args])

    def product(self, node, args):
        left, right = args
        if isinstance(left, MatrixExpr) and isinstance(right, MatrixExpr):
            left_ty, right_ty = (a.ty for a in node.args)
            if node.op == "matmul" or not (left_ty.is_scalar or right_ty.is_scalar):
                return MatMul(left, right)
        if node.ty.is_scalar:
            return _scalar(left) * _scalar(right)
        left = _scalar(left) if node.args[0].ty.is_scalar else left
        right = _scalar(right) if node.args[1].ty.is_scalar else right
        return left * right

    def divide(self, node, args):
        if isinstance(args[0], MatrixExpr) and not node.ty.is_scalar:
            return args[0] / _scalar(args[1])
        return _scalar(args[0]) / _scalar(args[1])

    def hadamard(self, node, args):
        if any(a.ty.is_scalar for a in node.args):
            return self.product(node, args)
        return HadamardProduct(*args)

    def kron(self, node, args):
        if any(a.ty.is_scalar for a in node.args):
            return self.product(node, args)
        return KroneckerProduct(*args)

    def ediv(self, node, args):
        left, right = args
        if node.args[1].ty.is_scalar:
            return left / _scalar(right)
        if node.args[0].ty.is_scalar:
            return _scalar(left) * HadamardPower(right, -1)
        return HadamardProduct(left, HadamardPower(right, -1))

    def epow(self, node, args):
        base, exponent = args
        if node.ty.is_scalar:
            return _scalar(base) ** _scalar(exponent)
        return HadamardPower(base, _scalar(exponent))

    def elementwise(self, node, args):
        """A function of the operator table's, on a scalar or entry by entry."""
        function = scalars.function(node.op)
        (arg,) = args
        return function(_scalar(arg)) if node.ty.is_scalar else arg.applyfunc(function)

    def on_scalar(self, node, args, matrix_form, scalar_form=lambda x: x):
        """An operator that is the identity on a scalar (tr, det, transpose)."""
        (arg,) = args
        return scalar_form(_scalar(arg)) if node.args[0].ty.is_scalar else matrix_form(arg)

    def logdet(self, node, args):
        return self.on_scalar(node, args, lambda x: sympy.log(sympy.Abs(Determinant(x))),
                              lambda x: sympy.log(sympy.Abs(x)))

    def total(self, node, args):
        """sum(M) = 1^T M 1 (a trace of the 1×1 product); mean(M) that over the size."""
        (arg,) = args
        ty = node.args[0].ty
        if ty.is_scalar:
            return _scalar(arg)
        left = OneMatrix(1, arg.shape[0]) if ty.rows else None
        right = OneMatrix(arg.shape[1], 1) if ty.cols else None
        total = Trace(MatMul(*[x for x in (left, arg, right) if x is not None]))
        if node.op == "mean":
            count = arg.shape[0] * arg.shape[1]
            if not count.is_Integer:
                raise UnsupportedError("to_sympy: the operator `mean` of symbolic size has no "
                                       "SymPy counterpart", hint="pass sizes={...} or use sum")
            return total / count
        return total

    def norm2(self, node, args):
        (arg,) = args
        ty = node.args[0].ty
        if ty.is_scalar:
            return sympy.Abs(_scalar(arg))
        inner = MatMul(arg, Transpose(arg)) if ty.kind == "row vector" \
            else MatMul(Transpose(arg), arg)
        return sympy.sqrt(Trace(inner))

    def literal(self, node, args):
        r, c = node.attrs
        cells = [_scalar(a) for a in args]
        if r == c == 1:
            return cells[0]
        return sympy.ImmutableMatrix(r, c, cells)


# -- from SymPy --------------------------------------------------------------------------

_NAME = re.compile(r"[^\W\d]\w*$")


@public
def from_sympy(matrix_expr, where=None) -> Expr:
    """A matrixcalc expression with the meaning of a SymPy matrix (or scalar) expression.

    Each MatrixSymbol's kind comes from its shape (n×1: vector, 1×1: scalar, 1×n: the
    transpose of a vector, otherwise matrix); SymPy symbols are scalars. `where` may add
    assumptions ("A: symmetric")."""
    from ..language.declarations import parse_where
    from ..language.parse import parse

    if not isinstance(matrix_expr, (sympy.Basic, sympy.MatrixBase, int, float)):
        raise UsageError(f"from_sympy takes a SymPy expression, not "
                         f"{type(matrix_expr).__name__}",
                         hint="build it with SymPy (MatrixSymbol, symbols, ...); text is "
                              "never evaluated: for text use mc.parse")
    declared: dict[str, str] = {}
    text = _text(sympy.sympify(matrix_expr, strict=True), declared)
    words = {name: kind for name, kind in declared.items()}
    for name, decl in parse_where(where).items():
        words[name] = " ".join(filter(None, [words.get(name, decl.kind or ""),
                                             *sorted(decl.assumptions)]))
    return parse(text, words or None)


def _declare(declared: dict[str, str], name: str, kind: str) -> str:
    if not _NAME.match(name):
        raise UnsupportedError(f"from_sympy: `{name}` is not a name matrixcalc can read")
    if declared.setdefault(name, kind) != kind:
        raise UnsupportedError(f"from_sympy: `{name}` is used as a {declared[name]} and as "
                               f"a {kind}")
    return name


def _number(value) -> str:
    if isinstance(value, sympy.Rational):
        text = str(abs(value.p)) if value.q == 1 else f"{abs(value.p)}/{value.q}"
        return f"(-{text})" if value < 0 else (f"({text})" if value.q != 1 else text)
    number = float(value)
    text = repr(abs(number))
    return f"(-{text})" if number < 0 else text


def _text(e, declared: dict[str, str]) -> str:  # noqa: C901 - one case per SymPy class
    t = lambda x: _text(x, declared)  # noqa: E731
    if isinstance(e, MatrixSymbol):
        r, c = e.shape
        if r == 1 and c == 1:
            return _declare(declared, e.name, "scalar")
        if c == 1:
            return _declare(declared, e.name, "vector")
        if r == 1:
            return f"{_declare(declared, e.name, 'vector')}^T"
        return _declare(declared, e.name, "matrix")
    if isinstance(e, sympy.Symbol):
        return _declare(declared, e.name, "scalar")
    if isinstance(e, (sympy.Rational, sympy.Float)) or e in (sympy.pi, sympy.E):
        return _number(e) if e not in (sympy.pi, sympy.E) else repr(float(e))
    if isinstance(e, Identity):
        return "I"
    if isinstance(e, OneMatrix):
        r, c = e.shape
        if c == 1:
            return "ones"
        return "ones^T" if r == 1 else "(ones ones^T)"
    if isinstance(e, ZeroMatrix):
        return "0"
    if isinstance(e, (MatAdd, sympy.Add)):
        return "(" + " + ".join(t(a) for a in e.args) + ")"
    if isinstance(e, (MatMul, sympy.Mul)):
        return "(" + " * ".join(t(a) for a in e.args) + ")"
    if isinstance(e, Transpose):
        return f"({t(e.arg)})^T"
    if isinstance(e, Inverse):
        return f"inv({t(e.arg)})"
    if isinstance(e, MatPow):
        k = e.exp
        if not (isinstance(k, sympy.Integer)):
            raise UnsupportedError("from_sympy: a matrix power needs an integer exponent")
        return f"({t(e.base)})^{int(k)}" if k >= 0 else f"({t(e.base)})^-{-int(k)}"
    if isinstance(e, Trace):
        return f"tr({t(e.arg)})"
    if isinstance(e, Determinant):
        return f"det({t(e.arg)})"
    if isinstance(e, HadamardProduct):
        return "(" + " ⊙ ".join(t(a) for a in e.args) + ")"
    if isinstance(e, HadamardPower):
        return f"({t(e.base)}).^{{{t(e.exp)}}}"
    if isinstance(e, KroneckerProduct):
        return reduce(lambda a, b: f"kron({a}, {b})", [t(a) for a in e.args])
    if isinstance(e, DiagMatrix):
        return f"diag({t(e.args[0])})"
    if isinstance(e, DiagonalOf):
        return f"diag({t(e.arg)})"
    if isinstance(e, MatrixElement) and e.parent.shape == (1, 1):
        return t(e.parent)
    if isinstance(e, ElementwiseApplyFunction):
        body, (dummy,) = e.function.expr, e.function.variables
        if isinstance(body, sympy.Pow) and body.base == dummy and dummy not in \
                body.exp.free_symbols:  # sqrt(d) is d**(1/2)
            return f"({t(e.expr)}).^{{{t(body.exp)}}}"
        name = scalars.function_names().get(type(body))
        if name is None or body.args != (dummy,):
            raise UnsupportedError(f"from_sympy: the elementwise function {e.function} has no "
                                   "matrixcalc counterpart")
        return f"{name}({t(e.expr)})"
    if isinstance(e, sympy.Pow):
        return f"({t(e.base)})^{{{t(e.exp)}}}"
    names = scalars.function_names()
    if isinstance(e, sympy.Function) and type(e) in names and len(e.args) == 1:
        return f"{names[type(e)]}({t(e.args[0])})"
    if isinstance(e, sympy.MatrixBase):
        r, c = e.shape
        rows = [", ".join(t(e[i, j]) for j in range(c)) for i in range(r)]
        return "[" + "; ".join(rows) + "]"
    raise UnsupportedError(f"from_sympy: `{type(e).__name__}` has no matrixcalc counterpart",
                           hint="matrixcalc reads SymPy's matrix expressions and scalar "
                                "functions of them")


__all__ = ["from_sympy", "to_sympy"]
