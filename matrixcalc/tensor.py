"""Derivatives of order 3 and 4: index-form results, and their vec/Kronecker forms.

A `TensorResult` holds the contracted index terms of ∂F/∂X with the free indices in
SPEC section 3's layout (F's dimensions, then X's); it prints in Einstein notation and
evaluates with einsum in torch.func.jacrev's layout. (The matrix ∂vec(F)/∂vec(X) is
recovered from index form like any other derivative: `calculus.vec_derivative`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from .expr import Expr, Symbol
from .index.ir import Factor, Term
from .index.scalars import SizeSymbol
from .index_printing import term_text
from .shapes import Dim, dim_size, dim_text


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

    def mapped(self, fn, of: Expr, wrt: Symbol) -> TensorResult:
        """The same derivative with every factor's expression passed through `fn` (the
        symbols' assumptions restored and simplified under), remembering `of` and `wrt`."""
        from .index.contract import contract
        terms = [Term(t.coeff, tuple(f if f.is_structural else Factor(fn(f.expr), f.idx)
                                     for f in t.factors)) for t in self.terms]
        return TensorResult(tuple(contract(terms, self.free)), self.free, self.dims, of, wrt)

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
        out = np.zeros(tuple(dim_size(d, sizes) for d in self.dims))
        for term in self.terms:
            operands, subscripts = [], []
            for f in term.factors:
                operands.append(_factor_value(f, values, sizes))
                subscripts.append("".join(_letter(letters, i) for i in f.idx))
            bound = {sympy.Symbol(k, real=True): v for k, v in values.items()
                     if np.ndim(v) == 0}
            bound.update({s: sizes[s.name] for s in term.coeff.atoms(SizeSymbol)})
            scale = float(term.coeff.subs(bound))
            present = set("".join(subscripts))
            for i, dim in zip(self.free, self.dims):  # constant along a free index
                if _letter(letters, i) not in present:
                    operands.append(np.ones(dim_size(dim, sizes)))
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


def _factor_value(f: Factor, values, sizes) -> np.ndarray:
    if f.is_copy:
        n = dim_size(f.expr.ty.rows, sizes)
        out = np.zeros((n,) * len(f.idx))
        out[(np.arange(n),) * len(f.idx)] = 1.0
        return out
    if f.is_pair:
        p, q = dim_size(f.expr.ty.rows, sizes), dim_size(f.expr.ty.cols, sizes)
        out = np.zeros((p * q, p, q))
        o, n = np.meshgrid(np.arange(p), np.arange(q), indexing="ij")
        out[(o * q + n).ravel(), o.ravel(), n.ravel()] = 1.0
        return out
    value = np.asarray(f.expr.evaluate(values), dtype=float)
    return value.reshape(tuple(dim_size(d, sizes) for d in f.dims()))
