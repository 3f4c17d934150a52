"""Derivatives of order 3 and 4: index-form results, and their vec/Kronecker forms.

A `TensorResult` holds the contracted index terms of ∂F/∂X with the free indices in
SPEC section 3's layout (F's dimensions, then X's); it prints in Einstein notation and
evaluates with einsum in torch.func.jacrev's layout. `kronecker_form` writes
∂vec(F)/∂vec(X) as a sum of P ⊗ Q, which exists when every term splits into a part that
joins the row indices (F's row, X's row: Q) and a part that joins the column indices
(F's column, X's column: P): ∂vec(A X B)/∂vec(X) = B^T ⊗ A (Matrix Cookbook (520)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from . import build
from .expr import Const, Expr, Symbol
from .index.ir import IndexGroups, Term
from .index.recover import NoMatrixForm, recover_term
from .index.scalars import from_sympy
from .index_printing import term_text
from .shapes import Dim, dim_text


@dataclass(frozen=True)
class TensorResult:
    """∂F/∂X of order 3 or 4, in index notation."""

    terms: tuple[Term, ...]
    free: tuple[str, ...]   # output indices: F's, then X's
    dims: tuple[Dim, ...]   # the dimension of each free index
    of: Expr
    wrt: Symbol

    kind = "tensor"

    @property
    def shape(self) -> tuple:
        return tuple(dim_text(d) for d in self.dims)

    @property
    def shapes(self) -> dict:
        return self.of.shapes

    def index(self) -> str:
        if not self.terms:
            return "0"
        texts = [term_text(t) for t in self.terms]
        out = texts[0]
        for text in texts[1:]:
            out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
        return out

    def __str__(self) -> str:
        return self.index()

    def latex(self) -> str:
        return self.index().replace("δ", r"\delta")

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def evaluate(self, values: dict[str, Any]) -> np.ndarray:
        """The tensor in jacrev layout: T[i, j, k, l] = ∂F_ij / ∂X_kl."""
        sizes = _sizes(self.of, values)
        letters = {}
        out = np.zeros(tuple(_size(d, sizes) for d in self.dims))
        for term in self.terms:
            operands, subscripts = [], []
            for f in term.factors:
                operands.append(_factor_value(f.expr, values, sizes))
                subscripts.append("".join(_letter(letters, i) for i in f.idx))
            scale = float(term.coeff.subs({sympy.Symbol(k, real=True): v
                                           for k, v in values.items() if np.ndim(v) == 0}))
            present = set("".join(subscripts))
            for i, dim in zip(self.free, self.dims):  # constant along a free index
                if _letter(letters, i) not in present:
                    operands.append(np.ones(_size(dim, sizes)))
                    subscripts.append(_letter(letters, i))
            target = "".join(_letter(letters, i) for i in self.free)
            out = out + scale * np.einsum(",".join(subscripts) + "->" + target, *operands)
        return out


def _letter(letters: dict[str, str], index: str) -> str:
    if index not in letters:
        letters[index] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letters)]
    return letters[index]


def _sizes(e: Expr, values: dict[str, Any]) -> dict:
    sizes: dict = {}
    for name, info in e.shapes.items():
        if name in values and info.kind != "scalar":
            shape = np.shape(values[name])
            for dim, n in zip((info.rows, info.cols), shape):
                if len(dim) == 1:
                    sizes[dim[0]] = n
    return sizes


def _size(dim: Dim, sizes: dict) -> int:
    n = 1
    for atom in dim:
        n *= atom if isinstance(atom, int) else sizes[atom]
    return n


def _factor_value(e: Expr, values, sizes) -> np.ndarray:
    if isinstance(e, Const):
        n = _size(e.ty.rows, sizes)
        return np.eye(n) if e.name == "I" else np.ones(n)
    return np.asarray(e.evaluate(values), dtype=float)


# -- vec / Kronecker form ----------------------------------------------------------------

def kronecker_form(terms: list[Term], f_idx, x_idx) -> Expr:
    """Σ P ⊗ Q over the terms, or NoMatrixForm when some term joins rows with columns."""
    i, j = f_idx
    k, l = x_idx
    rows, cols = {i, k} - {None}, {j, l} - {None}
    kron_terms = []
    for term in terms:
        q_factors, p_factors = _split(term, rows, cols)
        q = recover_term(Term(sympy.Integer(1), tuple(q_factors)), (i, k))
        p = recover_term(Term(sympy.Integer(1), tuple(p_factors)), (j, l)) if cols else None
        product = q if p is None or p == build.num(1) else build.apply("kron", p, q)
        coeff = term.coeff
        negative = coeff.could_extract_minus_sign()
        if abs(coeff) != 1:
            product = build.product(from_sympy(-coeff if negative else coeff), product)
        kron_terms.append(build.negate(product) if negative else product)
    if not kron_terms:
        raise NoMatrixForm("the derivative is zero")
    shape = kron_terms[0].ty
    return build.total(kron_terms, shape)


def _split(term: Term, rows: set, cols: set) -> tuple[list, list]:
    joined = IndexGroups()
    for f in term.factors:
        joined.join(f.idx)
    used = {a for f in term.factors for a in f.idx}
    q, p = [], []
    for f in term.factors:
        group = {joined.find(a) for a in f.idx}
        touches_rows = any(joined.find(r) in group for r in rows if r in used)
        touches_cols = any(joined.find(c) in group for c in cols if c in used)
        if touches_rows and touches_cols:
            raise NoMatrixForm("a term joins a row index with a column index: no P ⊗ Q form")
        (p if touches_cols else q).append(f)
    return q, p
