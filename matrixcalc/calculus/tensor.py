"""Derivatives of order 3 and 4 in index form: one result type with the matrix forms.

A `TensorResult` is an `Expr` (SPEC section 4: one result type for every order) holding
the contracted index terms of ∂F/∂X, its free indices in SPEC section 3's layout (F's
dimensions, then X's) and what it was derived from. It prints in Einstein notation,
evaluates in torch.func.jacrev's layout, and is taken by `lambdify` (einsum code), `check`,
`to_sympy` and the CLI like any other result. (The matrix ∂vec(F)/∂vec(X) is recovered
from index form like any other derivative: `calculus.vec_derivative`.)

`einsum_plan` is the one reading of the terms as einsum products that evaluation, code
generation and SymPy conversion share: copy tensors are not materialized but merge the
indices they join (δ_iab A_ab = A_ii: one letter), a copy joining two free indices is an
identity, a summed index nothing else holds counts its size, a free index nothing holds
is constant along it (ones), and a pair tensor [c = (o, n)] is the 0/1 array that reads
c as (o, n), n fastest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sympy

from ..index.ir import Factor, IndexGroups, Term
from ..index.scalars import SizeSymbol, size
from ..language.expr import SLOT, Derivation, Expr, Symbol, is_slot
from ..language.shapes import Dim, dim_size, dim_text

if TYPE_CHECKING:  # numpy is imported where a tensor is evaluated: deriving needs none
    import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Operand:
    """One operand of an einsum product: a factor's expression, an identity or ones of a
    dimension, or a pair tensor of (outer, inner) dimensions; and its subscripts."""

    kind: str  # "expr", "eye", "ones" or "pair"
    subscripts: str
    expr: Expr | None = None
    dims: tuple[Dim, ...] = ()


@dataclass(frozen=True)
class Product:
    """coeff · einsum(operands -> output): one term."""

    coeff: sympy.Expr
    operands: tuple[Operand, ...]
    output: str


@dataclass(frozen=True, eq=False)
class TensorResult(Expr):
    """∂F/∂X of order 3 or 4, in index notation."""

    is_tensor = True
    terms: tuple[Term, ...]
    free: tuple[str, ...]   # output indices: F's, then X's
    dims: tuple[Dim, ...]   # the dimension of each free index
    of: Expr
    wrt: Symbol
    ty: None = field(default=None, compare=False)  # no matrix shape: see `shape`
    span: Any = field(default=None, compare=False)
    derived_from: Derivation | None = field(default=None, compare=False, repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorResult) and (self.terms, self.free, self.dims) == (
            other.terms, other.free, other.dims)

    def __hash__(self) -> int:
        return hash((self.terms, self.free, self.dims))

    @property
    def kind(self) -> str:
        return "tensor"

    @property
    def shape(self) -> tuple:
        return tuple(dim_text(d) for d in self.dims)

    @property
    def shapes(self) -> dict:
        shapes = dict(self.of.shapes)
        if self.wrt.info is not None:
            shapes.setdefault(self.wrt.name, self.wrt.info)
        return shapes

    def symbols(self) -> list[Symbol]:
        """The symbols its factors and coefficients use (typed as in `of`)."""
        names = {s.name for t in self.terms for s in t.coeff.free_symbols}
        held = super().symbols()
        return held + [s for s in self.of.symbols() if s.name in names
                       and s.name not in {h.name for h in held}]

    def children(self) -> tuple[Expr, ...]:
        """The expressions its factors hold (what generated code computes first)."""
        return tuple(f.expr for t in self.terms for f in t.factors if not f.is_structural)

    def mapped(self, fn, of: Expr, wrt: Symbol) -> TensorResult:
        """The same derivative with every factor's expression passed through `fn` (the
        symbols' assumptions restored and simplified under), remembering `of` and `wrt`."""
        from ..index.contract import contract
        terms = [Term(t.coeff, tuple(f if f.is_structural else Factor(fn(f.expr), f.idx)
                                     for f in t.factors)) for t in self.terms]
        return TensorResult(tuple(contract(terms, self.free)), self.free, self.dims, of, wrt)

    def readable_terms(self) -> list[Term]:
        """The terms with summed indices named a, b, c, … (never an internal `_0`)."""
        from ..index.printing import readable
        return [readable(t, set(self.free)) for t in self.terms]

    def index(self) -> str:
        from ..index.printing import term_text
        if not self.terms:
            return "0"
        texts = [term_text(t) for t in self.readable_terms()]
        out = texts[0]
        for text in texts[1:]:
            out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
        return out

    def __str__(self) -> str:
        return self.index()

    def __repr__(self) -> str:
        return self.index()

    def structure(self) -> str:
        return f"TensorResult({self.index()!r})"

    def latex(self) -> str:
        from ..index.printing import factor_text
        parts = []
        for term in self.readable_terms():
            coeff = "" if term.coeff == 1 else "-" if term.coeff == -1 else \
                sympy.latex(term.coeff) + " "
            parts.append(coeff + " ".join(factor_text(f, latex=True) for f in term.factors))
        return " + ".join(parts).replace("+ -", "- ") if parts else "0"

    def shared(self, min_chars: int | None = None) -> TensorResult:
        return self

    def subs(self, mapping, where=None):
        from ..errors import UnsupportedError
        raise UnsupportedError("a derivative of order 3 or 4 takes no substitution",
                               hint="substitute in the expression, then derive")

    def evaluate(self, values: dict[str, Any], sizes: dict[str, int] | None = None) -> Any:
        """The tensor in jacrev layout: T[i, j, k, l] = ∂F_ij / ∂X_kl (numpy)."""
        import numpy as np

        from ..numbers.numeric import size_function
        known = _sizes(self, values)
        known.update(sizes or {})
        size_of = size_function(known)  # a size no value fixes: a UsageError that says so
        out = np.zeros(tuple(size_of(d) for d in self.dims))
        for product in einsum_plan(self):
            arrays = [_operand_value(op, values, known) for op in product.operands]
            scale = float(product.coeff.subs(_bound(product.coeff, values, known)))
            spec = ",".join(op.subscripts for op in product.operands) + "->" + product.output
            out = out + scale * (np.einsum(spec, *arrays) if arrays else 1.0)
        return out[None] if self.row_vector_of else out

    @property
    def row_vector_of(self) -> bool:
        """Whether F is a row vector, whose user form (1×n) keeps its unit axis first."""
        return self.of.ty is not None and self.of.ty.kind == "row vector"


def einsum_plan(t: TensorResult) -> list[Product]:
    """Each term as an einsum product over letters (see the module docstring)."""
    return [_product(t, term) for term in t.terms]


def _product(t: TensorResult, term: Term) -> Product:
    groups = IndexGroups()
    for f in term.factors:
        if f.is_copy:
            groups.join(f.idx)
    dims = {**term.index_dims(), **dict(zip(t.free, t.dims))}
    letters: dict = {}

    def letter(index: str, own: bool = False) -> str:
        key = ("own", index) if own else groups.find(index)
        if key not in letters:
            letters[key] = LETTERS[len(letters)]
        return letters[key]

    operands = [Operand("pair", "".join(letter(i) for i in f.idx), dims=(f.dims()[1:]))
                if f.is_pair else Operand("expr", "".join(letter(i) for i in f.idx), f.expr)
                for f in term.factors if not f.is_copy]
    held = {groups.find(i) for f in term.factors if not f.is_copy for i in f.idx}
    output, coeff, seen = "", term.coeff, {}
    for index in t.free:
        root = groups.find(index)
        if root in seen:  # a copy joins two free indices: an identity between them
            own = letter(index, own=True)
            operands.append(Operand("eye", letter(index) + own, dims=(dims[index],)))
            output += own
            continue
        seen[root] = index
        if root not in held:
            operands.append(Operand("ones", letter(index), dims=(dims[index],)))
            held.add(root)
        output += letter(index)
    for f in term.factors:  # a copy whose indices nothing else holds: a sum of ones
        if f.is_copy and groups.find(f.idx[0]) not in held | set(seen):
            held.add(groups.find(f.idx[0]))
            coeff = coeff * size(f.dims()[0])
    return Product(coeff, tuple(operands), output)


def _sizes(t: TensorResult, values: dict[str, Any]) -> dict:
    import numpy as np
    sizes: dict = {}
    for name, info in t.shapes.items():
        if name in values and info.kind != "scalar":
            shape = np.shape(values[name])
            for dim, n in zip((info.rows, info.cols), shape):
                if len(dim) == 1:
                    sizes[dim[0]] = n
    return sizes


def _bound(coeff: sympy.Expr, values, sizes) -> dict:
    import numpy as np
    bound = {sympy.Symbol(k, real=True): v for k, v in values.items() if np.ndim(v) == 0}
    bound.update({s: sizes[s.name] for s in coeff.atoms(SizeSymbol)})
    return bound


def _operand_value(op: Operand, values, sizes) -> np.ndarray:
    import numpy as np
    if op.kind == "expr" and Factor(op.expr, ()).slot is not None:
        return _linear_map_value(op.expr, values, sizes)
    if op.kind == "eye":
        return np.eye(dim_size(op.dims[0], sizes))
    if op.kind == "ones":
        return np.ones(dim_size(op.dims[0], sizes))
    if op.kind == "pair":
        p, q = (dim_size(d, sizes) for d in op.dims)
        return np.eye(p * q).reshape(p * q, p, q)
    value = np.asarray(op.expr.evaluate(values, sizes=sizes), dtype=float)
    return value.reshape(tuple(dim_size(d, sizes) for d in Factor(op.expr, ()).dims()))


def _linear_map_value(e: Expr, values, sizes) -> np.ndarray:
    """A linear map's factor (`dexpm(X, □)`) as an array, its value's axes then the
    slot's: the map applied to each unit direction in turn."""
    import numpy as np

    from ..numbers.backends import backend
    from ..numbers.numeric import run, to_internal
    slot = Factor(e, ()).slot
    probe = replace(e, args=tuple(Symbol(SLOT, ty=a.ty) if is_slot(a) else a for a in e.args))
    B = backend("numpy")
    env = {name: to_internal(name, info.kind, values[name], B)
           for name, info in e.shapes.items() if name in values}
    size_of = lambda dim: dim_size(dim, sizes)
    rows, cols = size_of(slot.ty.rows), size_of(slot.ty.cols)
    applied = []
    for k in range(rows * cols):
        unit = np.zeros(rows * cols)
        unit[k] = 1.0
        env[SLOT] = unit.reshape(rows, cols)
        applied.append(np.asarray(run(probe, env, B, size_of)))
    stacked = np.stack(applied, axis=-1).reshape(applied[0].shape + (rows, cols))
    return stacked.reshape(tuple(dim_size(d, sizes) for d in Factor(e, ()).dims()))
