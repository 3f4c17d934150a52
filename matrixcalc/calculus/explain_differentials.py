"""mc.explain(..., method="differential"): the derivation by differentials, a line a step.

Each step is one line in matrix notation, as text and as LaTeX, titled with the rule it
applies: the expression; d applied to it; one level of operators at a time, each by its
record's rule (product rule: d(U V) = dU V + U dV, …); each term of the full differential
moved to the canonical form (cyclicity of the trace, transposes of scalars, Hadamard and
diag moves); the terms collected; simplified; and the identification theorem, which
gives the derivative (Magnus & Neudecker). With order=2, the second differential of a
scalar function follows: dg = B dx for the gradient g, d²f = dx^T B^T dx, H = (B + B^T)/2.
Every line from the full differential on parses back with `Explanation.where` (which
declares the differential symbol); a line with a d(…) still to take is the textbooks'
notation.
"""

from __future__ import annotations

from ..errors import MatrixCalcError, UsageError
from ..language import build
from ..language.expr import Expr
from .by_differentials import (
    FIRST,
    SECOND,
    DifferentialDerivation,
    derive_by_differentials,
    normal_form,
    second,
)
from .canonical import canonical, tidy
from .jacobians import jacobian_form
from .differential import differential_where, pending, show
from .explain import Explanation


def explain_by_differentials(expr, wrt, where=None, order: int = 1) -> Explanation:
    """The derivation by differentials (order 1), or of the Hessian (order 2)."""
    if order not in (1, 2):
        raise UsageError(f"`order` is 1 (derivative) or 2 (Hessian), not {order!r}")
    if order == 1:
        derivation = derive_by_differentials(expr, wrt, where)
        renderer = Renderer(derivation, where, "f")
        renderer.derivation()
        return renderer.ex
    both = second(expr, wrt, where)
    renderer = Renderer(both.first, where, "f", result=both.result)
    renderer.derivation()
    if both.second is None:
        renderer.step(f"No Hessian here: {both.reason}", "", "")
        return renderer.ex
    inner = Renderer(both.second, where, "g", into=renderer.ex)
    inner.derivation(gradient=True)
    if both.result is not None:
        inner.hessian(both.hessian, both.result, both.symmetric)
    return renderer.ex


class Renderer:
    """Steps of one derivation by differentials, appended to an Explanation. `name` is
    what is differentiated: f, or g (the gradient, for the second differential)."""

    def __init__(self, derivation: DifferentialDerivation, where, name: str,
                 into: Explanation | None = None, result=...) -> None:
        self.d = derivation
        self.name = name if derivation.f.ty.is_scalar or name != "f" else "F"
        self.names = {derivation.dx.name: derivation.x.name}
        self.ex = into or Explanation(
            derivation.f, derivation.x, derivation.result if result is ... else result,
            method="differential", where=differential_where(where, derivation.dx),
            differential=derivation.differential)

    # -- lines -----------------------------------------------------------------------------
    def step(self, title: str, text: str, latex: str) -> None:
        self.ex.steps.append((title, text))
        self.ex.latex_steps.append((title, latex))

    def equation(self, title: str, e: Expr, lhs: Expr | str | None = None) -> None:
        """A step whose line is `d<name> = e` (or `lhs = e`)."""
        if lhs is None:
            left = (f"d{self.name}", f"\\mathrm{{d}}{self.name}")
        elif isinstance(lhs, str):
            left = (lhs, lhs)
        else:
            left = (show(lhs, self.names), show(lhs, self.names, True))
        self.step(title, f"{left[0]} = {show(e, self.names)}",
                  f"{left[1]} &= {show(e, self.names, True)}")

    def form(self, g: Expr) -> Expr:
        """The identification form of what dx pairs with: g^T dx, tr(M dX), g dx or J dx."""
        if self.d.form == "jacobian":
            return jacobian_form(g, self.d.dx)
        return canonical(g, self.d.dx)

    def words(self) -> tuple[str, str]:
        """The canonical form and what it identifies, in words."""
        d, n, x = self.d, self.name, self.d.x.name
        if d.form == "scalar":
            return f"d{n} = G d{x}", f"∂{n}/∂{x} = G"
        if d.form == "jacobian":
            return f"d{n} = J d{x}", f"∂{n}/∂{x} = J (the Jacobian)"
        if d.x.ty.kind == "matrix":
            return f"d{n} = tr(G^T d{x})", f"∂{n}/∂{x} = G"
        return f"d{n} = g^T d{x}", f"∂{n}/∂{x} = g (the gradient)"

    @staticmethod
    def rules(used: list[tuple[str, str]]) -> str:
        """`product rule: d(U V) = dU V + U dV; transpose: …`, one title each."""
        by_title: dict[str, list[str]] = {}
        for title, rule in used:
            statements = by_title.setdefault(title, [])
            if rule and rule not in statements:
                statements.append(rule)
        return "; ".join(f"{t}: {', '.join(r)}" if r else t for t, r in by_title.items())

    # -- the derivation --------------------------------------------------------------------
    def derivation(self, gradient: bool = False) -> None:
        d, x, dx, f = self.d, self.d.x, self.d.dx, self.d.f
        if gradient:
            self.equation(f"The second differential: with d{x.name} held constant, "
                          f"d²f = d(g^T d{x.name}) = (dg)^T d{x.name}; g is the gradient",
                          f, lhs="g")
        else:
            self.step("The expression",
                      f"{self.name} = {f}   ({f.ty.describe()}; by {x.name}: "
                      f"{x.ty.describe()}; {dx.name}: its differential, shaped like {x.name})",
                      f"{self.name} = {f.latex()}")
        if d.differential is None:
            self.equation(f"{self.name} does not depend on {x.name}", build.zero(f.ty))
            if not gradient:
                self.identification()
            return
        if d.levels[0][1] != dx:
            self.equation("Take the differential (Magnus & Neudecker, ch. 8)", pending(f))
        for used, tree in d.levels:
            self.equation(self.rules(used), tree)
        if not d.terms:
            self.no_closed_form()
            return
        self.moves()
        self.collect()
        if not gradient:
            self.identification()

    def moves(self) -> None:
        d, dx = self.d, self.d.dx
        if d.form == "scalar":
            self.equation(f"{dx.name} is a scalar: it factors out of every term "
                          f"({self.words()[0]})", self.form(d.terms[0].factor))
            return
        target = self.words()[0].split(" = ")[1]
        for term in d.terms:
            moves = [(move.title, move.rule) for _, _, move in term.path]
            signed = term.term if term.sign > 0 else build.negate(term.term)
            factor = term.factor if term.sign > 0 else build.negate(term.factor)
            if show(signed, self.names) != show(self.form(factor), self.names):
                self.equation(f"The term as {target}: {self.rules(moves)}", self.form(factor),
                              lhs=signed)

    def collect(self) -> None:
        d = self.d
        shown = show(self.form(d.collected), self.names)
        if len(d.terms) > 1:
            self.equation(f"Collect the terms: {self.words()[0]}", self.form(d.collected))
        if show(self.form(d.simplified), self.names) != shown:
            self.equation("Simplify", self.form(d.simplified))

    def identification(self) -> None:
        d, n, x = self.d, self.name, self.d.x
        name, latex = f"∂{n}/∂{x.name}", f"\\frac{{\\partial {n}}}{{\\partial {x.latex()}}}"
        form, gives = self.words()
        if d.form == "gradient" and x.ty.kind == "matrix":  # the form printed is tr(M dX)
            gives += f" (here G^T = {tidy(build.apply('transpose', d.simplified))})"
        self.step(f"{FIRST[0].upper()}{FIRST[1:]}: {form} ⟺ {gives}",
                  f"{name} = {d.simplified}", f"{latex} &= {d.simplified.latex()}")
        if d.result is not None and str(d.result) != str(d.simplified):
            self.step("With the assumptions", f"{name} = {d.result}",
                      f"{latex} &= {d.result.latex()}")

    def hessian(self, hessian: Expr, result: Expr, symmetric: bool) -> None:
        b, x = self.d.simplified, self.d.x.name
        quadratic = build.chain([build.apply("transpose", self.d.dx),
                                 build.apply("transpose", b), self.d.dx])
        if not self.d.x.ty.is_scalar:
            self.equation(f"So d²f = (B d{x})^T d{x} = d{x}^T B^T d{x}, with B as above",
                          quadratic, lhs="d²f")
        why = "B = B^T, so H = B" if symmetric else "H = (B + B^T)/2"
        self.step(f"{SECOND[0].upper()}{SECOND[1:]}: d²f = d{x}^T B d{x} ⟺ "
                  f"H = (B + B^T)/2; {why}",
                  f"∂²f/∂{x}² = {hessian}", f"H &= {hessian.latex()}")
        if str(result) != str(hessian):
            self.step("With the assumptions", f"∂²f/∂{x}² = {result}",
                      f"H &= {result.latex()}")

    def no_closed_form(self) -> None:
        d = self.d
        try:
            simplified = normal_form(d.differential)
        except MatrixCalcError:
            simplified = d.differential
        self.equation(f"No closed matrix form: {d.reason}; the differential is the answer",
                      simplified)
