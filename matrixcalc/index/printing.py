"""Index (Einstein) notation of a matrix expression: `r.index()` (SPEC section 4).

The expression is lowered with `matrixcalc.index.lower.lower` (free indices i for the
rows, j for the columns), its Kronecker deltas contracted, and each term printed as its
coefficient times its factors, each factor with its indices as a subscript:
`A_{ia} x_{a}`. Repeated indices are summed. `I` prints as δ, `ones` as 1, an opaque
factor (inv, exp, …) in parentheses: `(A^-1)_{ia}`. Output is deterministic: index
names come from the lowering's explicit supply.
"""

from __future__ import annotations

import sympy

from ..language.expr import Apply, Const, Expr, Symbol
from .ir import Factor, IndexSupply, Term

ROW, COL = "i", "j"


def factor_text(factor: Factor, latex: bool = False) -> str:
    """`A_{ia}`, `δ_{ab}`, `(A^-1)_{ia}`, a pair tensor `[a=(j,i)]`; in LaTeX with
    `\\delta` and `\\left( \\right)`."""
    e = factor.expr
    if factor.is_pair:
        c, o, n = factor.idx
        return f"[{c}=({o},{n})]"
    if factor.is_copy:
        base = ("1", "\\mathbf{1}")[latex] if len(factor.idx) == 1 else ("δ", "\\delta")[latex]
        sep = "," if any(len(i) > 1 for i in factor.idx) else ""
        return f"{base}_{{{sep.join(factor.idx)}}}"
    if isinstance(e, Apply) and e.op == "transpose" and isinstance(e.args[0], Symbol) \
            and len(factor.idx) == 1:
        e = e.args[0]  # a row vector is stored as its transpose, one index
    if isinstance(e, Symbol):
        base = e.latex() if latex else e.name
    elif isinstance(e, Const):
        base = {"I": ("δ", "\\delta")}.get(e.name, ("1", "\\mathbf{1}"))[latex]
    else:
        base = f"\\left({e.latex()}\\right)" if latex else f"({e})"
    if not factor.idx:
        return base
    sep = "," if any(len(i) > 1 for i in factor.idx) else ""
    if factor.slot is not None:  # a linear map: the value's indices, then the slot's
        own = len(factor.idx) - len([d for d in (factor.slot.ty.rows, factor.slot.ty.cols) if d])
        return f"{base}_{{{sep.join(factor.idx[:own])},{sep.join(factor.idx[own:])}}}"
    return f"{base}_{{{sep.join(factor.idx)}}}"


def _coefficient(coeff: sympy.Expr) -> str:
    if coeff == 1:
        return ""
    if coeff == -1:
        return "-"
    text = str(coeff)
    if isinstance(coeff, sympy.Add):
        return f"({text}) "
    return text + " "


def term_text(term: Term) -> str:
    factors = " ".join(factor_text(f) for f in term.factors)
    coeff = _coefficient(term.coeff)
    if not factors:
        return str(term.coeff)
    return f"{coeff}{factors}"


SUMMED = "abcdefghklmnpqrstuvw"


def readable(term: Term, free: set[str]) -> Term:
    """Summed indices renamed a, b, c, … in order of appearance."""
    names = iter([n for n in [*SUMMED, *(f"{c}{k}" for k in range(1, 100) for c in SUMMED)]
                  if n not in free])
    mapping = {i: next(names) for i in term.indices() if i not in free}
    return term.renamed(mapping)


def to_index(expr: Expr) -> str:
    """`expr` in index notation: free indices i (rows) and j (columns)."""
    from ..errors import UsageError
    from .contract import contract
    from .lower import expand, expansion_limit, lower

    if expr.ty is None:
        raise UsageError("this expression has no inferred shape: build it with mc.parse")
    idx = (ROW if expr.ty.rows else None, COL if expr.ty.cols else None)
    supply = IndexSupply(reserved={ROW, COL})
    free = tuple(i for i in idx if i is not None)
    terms = contract(lower(expr, idx, supply), free)
    expanded = expand(terms, supply, limit=expansion_limit(terms))
    terms = terms if expanded is None else contract(expanded, free)
    terms = [readable(t, set(free)) for t in terms]
    if not terms:
        return "0"
    texts = [term_text(t) for t in terms]
    out = texts[0]
    for text in texts[1:]:
        out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
    return out


__all__ = ["factor_text", "term_text", "to_index"]
