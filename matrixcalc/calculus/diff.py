"""The derivative engine on the index IR.

A handful of generic cases: the variable becomes Kronecker deltas, sums are linear,
products obey Leibniz (each factor differentiated in turn), scalar coefficients are
differentiated by SymPy, and each opaque operator's factor is differentiated by its
record's rule (`OpSpec.derivative`, given this `Differentiator`). An elementwise
function's rule is the same for all: d f(M) = f'(M) ⊙ dM, with f' derived by SymPy from
the function's record (`scalars.derivative_parts`), never written a second time. A
factor whose operator has neither an index form nor a rule raises UnsupportedError
naming it: never a silent zero, never a loop.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from ..errors import ShapeError, UnsupportedError, UsageError
from ..index.ir import Factor, IndexSupply, Term, copy, product
from ..index.lower import Idx, Lowerer, factor, lower
from ..index.recover import NoMatrixForm
from ..index.scalars import derivative_parts, from_sympy, symbol, to_sympy
from ..language import build
from ..language.expr import (
    ENGINE_NAMES,
    Apply,
    Expr,
    Number,
    Symbol,
    SymbolInfo,
    is_slot,
    memo_key,
    names_in,
    put_back,
    walk,
)
from ..language.shapes import ONE as ONE_DIM
from ..language.shapes import Shape
from ..ops.spec import lookup

ONE = sympy.Integer(1)
FOLD_TERMS = 16  # an inner derivative of more terms is folded into its matrix form


def depends_on(e: Expr, name: str) -> bool:
    return isinstance(e, Symbol) and e.name == name or (
        isinstance(e, Apply) and name in e.names() and any(
            isinstance(n, Symbol) and n.name == name for n in walk(e)))


def index_pair(e: Expr, idx: tuple[str, ...]) -> Idx:
    """A factor's index tuple as (row, col) for its expression's kind."""
    if not idx:
        return (None, None)
    return (idx[0], idx[1] if len(idx) > 1 else None)


class Differentiator:
    """d/d(wrt) of index terms; `wrt_idx` are the derivative's own free indices. A record's
    `derivative(d, node, idx)` receives this object and uses its public methods."""

    build = build  # the typed constructors, for the trees a rule makes (M^-1 of det M)

    def __init__(self, wrt: Symbol, wrt_idx: tuple[str, ...], supply: IndexSupply,
                 scalar_derivative: Callable[[Expr, Symbol], Expr] | None = None,
                 matrix_form: Callable[[list[Term], Idx, Shape], Expr] | None = None,
                 fold_terms: int = FOLD_TERMS) -> None:
        self.wrt = wrt
        self.fold_terms = fold_terms  # an inner derivative of more terms is folded
        self.wrt_idx = wrt_idx
        self.supply = supply
        self._scalar_derivative = scalar_derivative  # the engine's closed form, injected
        self._matrix_form = matrix_form  # terms -> their matrix form (or NoMatrixForm)
        # d e at indices once found, by e: its summed indices are this supply's, used in
        # no other term, so the terms serve again renamed at their free indices
        self._memo: dict = {}
        self._folds: dict[str, Expr] = {}  # a folded Jacobian's symbol name: its form
        self._unfolds: dict[int, Expr] = {}  # a node (by id, kept alive): it unfolded
        self._keep: list[Expr] = []  # the nodes `_unfolds` names by id, kept alive
        self._depends: dict[int, tuple[Expr, bool]] = {}  # a node (kept alive): holds wrt
        self._warmed: set[int] = set()  # nodes `_warm` has visited (a hint only)
        self._warming = False

    def terms(self, terms: list[Term]) -> list[Term]:
        out: list[Term] = []
        for term in terms:
            if self.wrt.ty.is_scalar:
                dcoeff = sympy.diff(term.coeff, symbol(self.wrt.name))
                if dcoeff != 0:
                    out.append(Term(dcoeff, term.factors))
            for k, f in enumerate(term.factors):
                if f.is_structural or not self.depends(f.expr):
                    continue
                rest = Term(term.coeff, term.factors[:k] + term.factors[k + 1:])
                out += [rest.times(d) for d in self.factor_derivative(f)]
        return out

    def expr(self, e: Expr, idx: Idx) -> list[Term]:
        """d of `e` carrying indices `idx`, through its index form. Many terms are folded
        into one factor, their matrix form: a rule multiplies the inner derivative into
        each of its own terms, so composed rules of two terms each (softmax of softmax of
        …) would otherwise give 2^depth terms; folded, the chain rule keeps the product
        of Jacobians that the textbook writes."""
        if not self.depends(e):
            return []
        key = (memo_key(e), tuple(i is None for i in idx))
        known = self._memo.get(key)
        if known is None:
            self._warm(e)
            known = self._memo.get(key)
        if known is not None:  # a rule asks again (softmax: for its own and cross terms)
            was, terms = known
            mapping = {a: b for a, b in zip(was, idx) if a is not None}
            return [t.renamed(mapping) for t in terms]
        terms = self.terms(lower(e, idx, self.supply))
        if len(terms) > self.fold_terms and self._matrix_form is not None:
            terms = self._folded(e, idx, terms) or terms
        self._memo[key] = (idx, terms)
        return terms

    def depends(self, e: Expr) -> bool:
        """Whether e holds the variable, once per node: asked at every level of a deep
        nest, a walk down to the variable each time would cost the depth squared."""
        if not isinstance(e, Apply):
            return isinstance(e, Symbol) and e.name == self.wrt.name
        if self.wrt.name not in e.names():
            return False
        known = self._depends.get(id(e))
        if known is None:
            stack = [e]  # children first, iteratively: no depth limit
            while stack:
                node = stack[-1]
                pending = [a for a in node.args if isinstance(a, Apply)
                           and id(a) not in self._depends and self.wrt.name in a.names()]
                if pending:
                    stack += pending
                    continue
                stack.pop()
                self._depends[id(node)] = (node, any(self.depends(a) for a in node.args))
            known = self._depends[id(e)]
        return known[1]

    def _warm(self, root: Expr) -> None:
        """Derive, innermost first, the arguments of the operators inside `root` that have
        rules (what those rules ask for), so that a nest k deep is derived one level at a
        time, each finding the level below remembered: the recursion stays a few frames
        deep, not k times as many (Python's own limit, and its cost per frame)."""
        if self._warming:
            return
        self._warming = True
        try:
            for node in self._inside(root):
                if node is root or lookup(node.op).derivative is None:
                    continue
                for a in node.args:
                    if isinstance(a, Apply) and self.depends(a):
                        self._warm_one(a)
        finally:
            self._warming = False

    def _warm_one(self, e: Apply) -> None:
        try:
            self.expr(e, self.inner(e))
        except (UnsupportedError, UsageError, ShapeError):
            pass  # a rule that needs it raises it again; one that does not (sign' = 0) not

    def _inside(self, root: Expr):
        """The operator nodes under `root` that hold the variable, children before their
        parents, each once per differentiator (iterative: no depth limit)."""
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                yield node
            elif id(node) not in self._warmed and isinstance(node, Apply) \
                    and self.wrt.name in node.names():
                self._warmed.add(id(node))
                stack.append((node, True))
                stack.extend((a, False) for a in reversed(node.args))

    def _folded(self, e: Expr, idx: Idx, terms: list[Term]) -> list[Term] | None:
        """The terms of d e as one factor ∂e/∂wrt at (e's indices, wrt's), where that is
        a matrix, a vector or a scalar; None where it is a tensor or has no matrix form."""
        dims = {i: d for i, d in zip(idx, (e.ty.rows, e.ty.cols)) if i is not None}
        wrt_dims = [d for d in (self.wrt.ty.rows, self.wrt.ty.cols) if d]
        dims.update(zip(self.wrt_idx, wrt_dims))
        present = [i for i in idx if i is not None] + list(self.wrt_idx)
        if len(present) > 2:
            return None
        out = (tuple(present) + (None, None))[:2]
        shape = Shape(*(dims[i] if i is not None else ONE_DIM for i in out))
        try:
            jacobian = self._matrix_form(terms, out, shape)
        except NoMatrixForm:
            return None
        return [Term(ONE, (Factor(self._held(jacobian), tuple(present)),))]

    def _held(self, jacobian: Expr) -> Expr:
        """A folded Jacobian as a symbol of its shape, until `unfold`: the next fold
        multiplies it into its own terms, and its matrix form (rules rewriting inside,
        expansion) would otherwise be simplified again at every fold, and printed for
        the canonical order, at a cost that grows with the depth (softmax nested k
        deep: k^2). Each fold's form is simplified once, where it is made."""
        if not isinstance(jacobian, Apply):
            return jacobian
        ty = jacobian.ty
        name = f"{ENGINE_NAMES}{len(self._folds) + 1}"
        self._folds[name] = jacobian
        return Symbol(name, info=SymbolInfo(name, ty.kind, ty.rows, ty.cols), ty=ty)

    @property
    def folded(self) -> bool:
        """Whether some inner derivative was folded (held as a symbol until `unfold`)."""
        return bool(self._folds)

    def unfold(self, e):
        """A derivative's matrix form (or its index terms) with each folded Jacobian's
        symbol replaced by its form, itself unfolded; each shared node once, so that the
        result shares what the folds built. What leaves the engine is unfolded."""
        if isinstance(e, list):
            return [Term(t.coeff, tuple(f if f.is_structural else Factor(self.unfold(f.expr),
                                                                           f.idx)
                                        for f in t.factors)) for t in e]
        if not self._folds or not any(n.startswith(ENGINE_NAMES) for n in names_in(e)):
            return e
        return put_back(e, self._folds, self._unfolds, self._keep)

    def of(self, e: Expr, idx: Idx) -> list[Term]:
        """d of `e` at `idx`: an opaque operator by its rule, anything else through its
        index form."""
        if isinstance(e, Symbol):
            return self.variable(e, idx)
        if isinstance(e, Apply):
            spec = lookup(e.op)
            if spec.derivative is not None:
                return spec.derivative(self, e, idx)
            if spec.lower is None:
                raise UnsupportedError(f"no derivative rule for `{e.op}`",
                                       hint="a table's `functions:` entry can give one")
        return self.expr(e, idx)

    def variable(self, e: Symbol, idx: Idx) -> list[Term]:
        """dX_ab/dX_kl = δ_ak δ_bl: one Kronecker delta per index."""
        if e.name != self.wrt.name:
            return []
        dims = [d for d in (self.wrt.ty.rows, self.wrt.ty.cols) if d]
        own = [i for i in idx if i is not None]
        return [Term(ONE, tuple(copy(dim, (a, p))
                                for a, p, dim in zip(own, self.wrt_idx, dims)))]

    def factor_derivative(self, f: Factor) -> list[Term]:
        return self.of(f.expr, index_pair(f.expr, f.idx))

    # -- what rules build their terms with ---------------------------------------------
    def fresh(self) -> str:
        return self.supply.fresh()

    @staticmethod
    def term(*factors: Factor, coeff=ONE) -> list[Term]:
        return [Term(sympy.sympify(coeff, strict=True), tuple(factors))]

    @staticmethod
    def factor(e: Expr, idx: Idx) -> Factor:
        """e as a factor at (row, col); a row vector as the column it transposes."""
        return factor(e, idx)

    @staticmethod
    def copy(dim, *idx: str) -> Factor:
        """δ_{idx}, the copy tensor of `dim` (a row index shared by several factors)."""
        return copy(dim, tuple(idx))

    times = staticmethod(product)

    def through(self, linear: Expr, idx: Idx, direction: Callable[[Idx], list[Term]]
                ) -> list[Term]:
        """A linear map applied to a direction, d expm(M) = dexpm(M, dM): `linear` holds a
        slot (`build.slot`) where the direction goes; its factor carries `idx`, then fresh
        indices for the slot, at which `direction` gives the direction's terms (`d.expr(M,
        …)`). Recovery applies the map, or its adjoint, to what it meets there."""
        slot = next(a for a in linear.args if is_slot(a))
        inner = self.inner(slot)
        held = tuple(i for i in idx if i is not None) + tuple(i for i in inner if i is not None)
        return product([Term(ONE, (Factor(linear, held),))], direction(inner))

    def inner(self, v: Expr) -> Idx:
        """Fresh indices for v's non-unit dimensions (to sum v against dv)."""
        return (self.fresh() if v.ty.rows else None, self.fresh() if v.ty.cols else None)

    def vanishes(self, v: Expr) -> bool:
        """Whether v is identically zero (its index form contracts to nothing)."""
        return Lowerer(self.supply).vanishes(v)

    def scalar_derivative(self, entry: Expr) -> Expr:
        """The closed form of d entry / d wrt, for a scalar entry (of a bracket literal)."""
        if self._scalar_derivative is None:
            raise UnsupportedError("this derivation cannot differentiate a bracket literal")
        return self._scalar_derivative(entry, self.wrt)

    @staticmethod
    def tree(value: sympy.Expr, context: Expr) -> Expr:
        """A SymPy scalar as a tree, its symbols those of `context` (an exponent)."""
        names = {n.name: n for n in walk(context) if isinstance(n, Symbol)}
        return from_sympy(value, names)

    def constant_exponent(self, exponent: Expr) -> sympy.Expr:
        value = to_sympy(exponent)
        if value is None or depends_on(exponent, self.wrt.name):
            raise UnsupportedError("derivatives of powers with a variable exponent are not "
                                   "supported yet")
        return value

    def entrywise_times(self, trees: list[Expr], m: Expr, idx: Idx) -> list[Term]:
        """t1 ⊙ t2 ⊙ … ⊙ dM at `idx`, the trees shaped like M: copy tensors join their
        indices (a scalar M needs none)."""
        parts = [lambda i, t=t: self.term(factor(t, i)) for t in trees]
        parts.append(lambda i: self.expr(m, i))
        return Lowerer(self.supply).entrywise(parts, m.ty, idx)

    def elementwise(self, e: Apply, idx: Idx) -> list[Term]:
        """d f(M) = f'(M) ⊙ dM, f' from the record's SymPy function as a coefficient and
        factors multiplied elementwise (kept apart, so that contraction can cancel
        s ⊙ s.^-1); nothing where f' is 0 away from 0."""
        (m,) = e.args
        parts = derivative_parts(e.op)
        if parts is None:
            return []
        coeff, trees = parts
        lifted = [lift(t, m) for t in trees]
        return [t.scaled(coeff) for t in self.entrywise_times(lifted, m, idx)]


def lift(e: Expr, value: Expr) -> Expr:
    """A scalar expression of x as the elementwise expression of `value` (x := value):
    products of arrays become Hadamard products, quotients elementwise, powers `.^`."""
    if isinstance(e, Symbol):
        return value
    if not isinstance(e, Apply):
        return e
    args = [lift(a, value) for a in e.args]
    arrays = [not a.ty.is_scalar for a in args]
    if e.op == "mul" and all(arrays):
        return build.apply("hadamard", *args)
    if e.op == "mul":
        return build.product(*args)
    if e.op == "div" and arrays[1]:
        inverse = build.apply("epow", args[1], build.num(-1))
        if isinstance(args[0], Number) and args[0].value == 1:
            return inverse
        return build.apply("hadamard" if arrays[0] else "mul", args[0], inverse)
    if e.op == "power" and arrays[0]:
        return build.apply("epow", *args)
    return build.apply(e.op, *args, attrs=e.attrs)
