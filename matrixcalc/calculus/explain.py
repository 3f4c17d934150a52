"""mc.explain: a derivation in steps a student can follow (SPEC section 5).

The steps are the engine's own stages, run one at a time and printed in index notation
(as in the lesson's section 4.2): the expression lowered to index form, the derivative
of each factor (a variable becomes Kronecker deltas; an opaque factor cites its rule,
e.g. "inverse: d(M^-1) = -M^-1 dM M^-1"), Leibniz' rule over the factors, the deltas
contracted, like terms collected, each term's matrix form recovered, and the sum
simplified. The last step is always what `mc.derive` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

from ..errors import UsageError
from ..index.contract import contract, contract_deltas
from ..index.ir import Factor, IndexSupply, Term
from ..index.lower import lower
from ..index.printing import factor_text, readable, term_text
from ..index.recover import recover_term
from ..index.scalars import from_sympy, symbol
from ..language import build
from ..language.expr import Apply, Expr, Symbol
from ..language.parse import as_expr, wrt_symbol
from ..ops.spec import lookup
from ..rewrite.simplify import canonical_input, simplify_tree
from ..guard import public
from .derive import _derivative, _layout_indices, differentiator, retype
from .diff import depends_on


@dataclass(repr=False)
class Explanation:
    """The derivation: `.steps` (title, text) pairs; `.text` / str(); `.latex()`.

    method: "index" or "differential". For the derivation by differentials, `differential`
    is dF in full (None where f does not depend on the variable), `where` the declarations
    its printed lines parse with (the user's, and the differential symbol's kind), and
    `result` None where there is no closed matrix form (order 3 or 4)."""

    expr: Expr
    wrt: Symbol
    result: Expr | None
    steps: list[tuple[str, str]] = field(default_factory=list)
    latex_steps: list[tuple[str, str]] = field(default_factory=list)
    method: str = "index"
    where: Any = None
    differential: Expr | None = None

    @property
    def text(self) -> str:
        blocks = []
        for n, (title, body) in enumerate(self.steps, 1):
            lines = body.splitlines() or [""]
            blocks.append(f"{n}. {title}\n" + "\n".join(f"   {line}" for line in lines))
        return "\n".join(blocks)

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__  # the REPL and Jupyter's text/plain show the steps, as for results

    def latex(self) -> str:
        out = []
        for n, (title, body) in enumerate(self.latex_steps, 1):
            out.append(f"\\textbf{{{n}. {_latex_escape(title)}}}")
            out.append("\\begin{align*}\n" + " \\\\\n".join(body.splitlines())
                       + "\n\\end{align*}")
        return "\n".join(out)

    def _repr_latex_(self) -> str:
        """Jupyter's text/latex: one math-mode block (`.latex()` is for a document), each
        step's title in bold over its lines."""
        rows = []
        for n, (title, body) in enumerate(self.latex_steps, 1):
            rows.append(f"\\textbf{{{n}. {_latex_escape(title)}}}")
            rows.append("\\begin{aligned}" + " \\\\ ".join(body.splitlines())
                        + "\\end{aligned}")
        return "$\\begin{array}{l}" + " \\\\\n".join(rows) + "\\end{array}$"

    def _repr_markdown_(self) -> str:
        """Jupyter: each step's title as text, its line as display math."""
        out = []
        for n, ((title, _), (_, body)) in enumerate(zip(self.steps, self.latex_steps), 1):
            lines = " \\\\\n".join(body.splitlines())
            out.append(f"{n}. **{title}**\n\n   $$\\begin{{aligned}}{lines}\\end{{aligned}}$$")
        return "\n".join(out)


def _latex_escape(text: str) -> str:
    return text.replace("&", "\\&").replace("%", "\\%").replace("_", "\\_")


# -- printing index terms --------------------------------------------------------------------

def _term_latex(term: Term) -> str:
    factors = " ".join(factor_text(f, latex=True) for f in term.factors)
    if not factors:
        return sympy.latex(term.coeff)
    if term.coeff == 1:
        return factors
    if term.coeff == -1:
        return "-" + factors
    coeff = sympy.latex(term.coeff)
    return (f"\\left({coeff}\\right) " if isinstance(term.coeff, sympy.Add) else coeff + " ") \
        + factors


def _sum(texts: list[str]) -> str:
    if not texts:
        return "0"
    out = texts[0]
    for text in texts[1:]:
        out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
    return out


def _term_text(term: Term) -> str:
    """As index.printing.term_text, with a symbolic coefficient in the input language."""
    if term.coeff.is_number:
        return term_text(term)
    coeff = str(from_sympy(term.coeff))
    if not term.factors:
        return coeff
    coeff = f"({coeff})" if isinstance(term.coeff, sympy.Add) else coeff
    return f"{coeff} {term_text(Term(sympy.Integer(1), term.factors))}"


def _terms(terms: list[Term]) -> tuple[str, str]:
    return _sum([_term_text(t) for t in terms]), _sum([_term_latex(t) for t in terms])


def _readable(terms: list[Term], keep: set[str]) -> list[Term]:
    """Summed indices renamed a, b, c, … in order of appearance, term by term."""
    return [readable(term, keep) for term in terms]


def _factor_name(f: Factor) -> str:
    return term_text(Term(sympy.Integer(1), (f,)))


def _rule_words(e: Expr, wrt: Symbol) -> str:
    if isinstance(e, Symbol):
        return "the variable: a Kronecker delta for each index" if not wrt.ty.is_scalar \
            else "the variable: 1"
    if isinstance(e, Apply) and e.op == "transpose" and e.args[0].ty.kind == "row vector":
        e = e.args[0]
    if isinstance(e, Apply) and lookup(e.op).derivative is not None:
        spec = lookup(e.op)
        return f"{spec.title or spec.name}: {spec.rule}"
    return "linear: differentiated term by term"


# -- the derivation ------------------------------------------------------------------------

METHODS = ("index", "differential")


@public
def explain(expr, wrt, where=None, method: str = "index", order: int = 1) -> Explanation:
    """The derivative of `expr` by `wrt`, derived step by step: in index notation
    (method="index"), or by differentials in matrix notation (method="differential",
    calculus.explain_differentials; order=2: the Hessian by the second differential)."""
    if method not in METHODS:
        raise UsageError(f"unknown explain method `{method}`: use \"index\" or "
                         "\"differential\"")
    if method == "differential":
        from .explain_differentials import explain_by_differentials
        return explain_by_differentials(expr, wrt, where, order)
    if order != 1:
        raise UsageError("the Hessian is explained by differentials: "
                         "method=\"differential\", order=2")
    return _explain_by_indices(expr, wrt, where)


def _explain_by_indices(expr, wrt, where=None) -> Explanation:
    """The derivative of `expr` by `wrt`, derived step by step in index notation."""
    e = as_expr(expr, where)
    x = wrt_symbol(e, wrt, where)
    f_idx, x_idx, out, shape = _layout_indices(e, x)
    free = tuple(i for i in out if i is not None)
    all_free = {i for i in f_idx + x_idx if i}
    result = _derivative(e, x)
    ex = Explanation(e, x, result)

    def step(title: str, text: str, latex: str) -> None:
        ex.steps.append((title, text))
        ex.latex_steps.append((title, latex))

    what = e.ty.describe()
    step("The expression", f"f = {e}   ({what}; by {x.name}: {x.ty.describe()})",
         f"f = {e.latex()}")
    x_name = _factor_name(Factor(x, x_idx)) if x_idx else x.name
    if not depends_on(e, x.name):
        step("The derivative", f"f does not depend on {x.name}: ∂f/∂{x_name} = 0", "0")
        return ex

    supply = IndexSupply(reserved={"i", "j", "k", "l"})
    lowered = _readable(lower(canonical_input(e), f_idx, supply), all_free)
    used = {i for t in lowered for i in t.indices()}
    supply = IndexSupply(reserved={"i", "j", "k", "l"} | used)
    text, latex = _terms(lowered)
    f_name = _factor_name(Factor(e, tuple(i for i in f_idx if i))).replace(f"({e})", "f") \
        if any(f_idx) else "f"
    summed = sorted(used - all_free)
    note = f"   (summed over {', '.join(summed)})" if summed else ""
    step("Index notation", f"{f_name} = {text}{note}", f"{f_name} = {latex}")

    d = differentiator(x, x_idx, supply)
    rules_text, rules_latex, leibniz = [], [], []
    for term in lowered:
        if x.ty.is_scalar:
            dcoeff = sympy.diff(term.coeff, symbol(x.name))
            if dcoeff != 0:
                leibniz.append(Term(dcoeff, term.factors))
                rules_text.append(f"∂({from_sympy(term.coeff)})/∂{x.name} = "
                                  f"{from_sympy(dcoeff)}   (a scalar coefficient)")
                rules_latex.append(f"\\partial ({sympy.latex(term.coeff)}) = "
                                   f"{sympy.latex(dcoeff)}")
        for k, f in enumerate(term.factors):
            if not depends_on(f.expr, x.name):
                continue
            derivative = d.unfold(d.factor_derivative(f))
            dt, dl = _terms(derivative)
            rules_text.append(f"∂{_factor_name(f)}/∂{x_name} = {dt}   "
                              f"({_rule_words(f.expr, x)})")
            rules_latex.append(f"\\frac{{\\partial {factor_text(f, latex=True)}}}{{\\partial "
                               f"{factor_text(Factor(x, x_idx), latex=True) if x_idx else x.name}}}"
                               f" &= {dl}")
            for piece in derivative:  # Leibniz: the factor replaced by its derivative
                leibniz.append(Term(term.coeff * piece.coeff,
                                    term.factors[:k] + piece.factors + term.factors[k + 1:]))
    step("Differentiate each factor", "\n".join(rules_text), "\n".join(rules_latex))
    lhs_latex = (f"\\frac{{\\partial f_{{{''.join(i for i in f_idx if i)}}}"
                 if any(f_idx) else "\\frac{\\partial f") + "}{\\partial " + \
        (factor_text(Factor(x, x_idx), latex=True) if x_idx else x.name) + "} "
    text, latex = _terms(leibniz)
    step("Product rule (Leibniz): one term per factor",
         f"∂{f_name}/∂{x_name} = {text}", f"{lhs_latex}&= {latex}")

    deltas = [contract_deltas(t, all_free) for t in leibniz]
    text, latex = _terms(deltas)
    step("Contract the Kronecker deltas (δ_ab y_b = y_a)",
         f"∂{f_name}/∂{x_name} = {text}", f"{lhs_latex}&= {latex}")

    collected = _readable(contract(leibniz, free), all_free)
    text, latex = _terms(collected)
    step("Index form of the derivative (like terms collected)",
         f"∂{f_name}/∂{x_name} = {text}", f"{lhs_latex}&= {latex}")

    pieces_text, pieces_latex, pieces = [], [], []
    for t in collected:
        m = simplify_tree(recover_term(t, out))
        pieces.append(m)
        pieces_text.append(f"{_term_text(t)}  →  {m}")
        pieces_latex.append(f"{_term_latex(t)} &\\to {m.latex()}")
    step("Each term as a matrix expression", "\n".join(pieces_text), "\n".join(pieces_latex))

    recovered = build.total(pieces, shape)
    simplified = retype(simplify_tree(recovered), dict(e.shapes) | {x.name: x.info}, shape)
    if str(recovered) == str(simplified):
        step("The matrix form", f"{simplified}", simplified.latex())
    else:
        step("The matrix form, simplified", f"{recovered}  =  {simplified}",
             f"{recovered.latex()} &= {simplified.latex()}")
    if simplified != result:
        step("Expanded and collected (the smaller form)", f"= {result}",
             f"&= {result.latex()}")
    return ex


__all__ = ["Explanation", "explain"]
