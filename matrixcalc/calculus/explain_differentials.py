"""mc.explain(..., method="differential"): the derivation by differentials, a line a step.

Each step is one line in matrix notation, as text and as LaTeX, titled with the rule it
applies: the expression; d applied to it; one level of operators at a time, each by its
record's rule (product rule: d(U V) = dU V + U dV, …); each term of the full differential
moved to the canonical form (cyclicity of the trace, transposes of scalars, Hadamard and
diag moves); the terms collected; simplified; and the identification theorem, which
gives the derivative (Magnus & Neudecker). Every line from the full differential on parses
back with `Explanation.where` (which declares the differential symbol); a line with a
d(…) still to take is the textbooks' notation.
"""

from __future__ import annotations

from ..language import build
from ..language.expr import Expr
from .by_differentials import FIRST, DifferentialDerivation, derive_by_differentials, normal_form
from .canonical import canonical, pairing
from .differential import differential_where, rule_of, show
from .explain import Explanation

RULE_WORDS = {"C": "C"}  # in the moves' statements, C stands for what the term pairs with
FORMS = {"scalar": ("dF = G dx", "∂F/∂x = G"), "gradient": ("df = tr(Gᵀ dX)", "∂f/∂X = G"),
         "jacobian": ("dF = J dx", "∂F/∂x = J")}


def explain_by_differentials(expr, wrt, where=None) -> Explanation:
    derivation = derive_by_differentials(expr, wrt, where)
    return Renderer(derivation, where).explanation()


class Renderer:
    def __init__(self, derivation: DifferentialDerivation, where) -> None:
        self.d = derivation
        self.names = {derivation.dx.name: derivation.x.name}
        f = derivation.f
        self.df = "df" if f.ty.is_scalar else "dF"
        self.ex = Explanation(f, derivation.x, derivation.result, method="differential",
                              where=differential_where(where, derivation.dx),
                              differential=derivation.differential)

    def step(self, title: str, text: str, latex: str) -> None:
        self.ex.steps.append((title, text))
        self.ex.latex_steps.append((title, latex))

    def line(self, lhs: tuple[str, str], e: Expr) -> None:
        """(title set later) `lhs = e`, as text and LaTeX."""
        return f"{lhs[0]} = {show(e, self.names)}", f"{lhs[1]} &= {show(e, self.names, True)}"

    def equation(self, title: str, e: Expr) -> None:
        text, latex = self.line((self.df, self._d_latex()), e)
        self.step(title, text, latex)

    def _d_latex(self) -> str:
        return r"\mathrm{d}f" if self.d.f.ty.is_scalar else r"\mathrm{d}F"

    def explanation(self) -> Explanation:
        d = self.d
        x, dx, f = d.x, d.dx, d.f
        self.step("The expression",
                  f"f = {f}   ({f.ty.describe()}; by {x.name}: {x.ty.describe()}; "
                  f"{dx.name}: its differential, shaped like {x.name})", f"f = {f.latex()}")
        if d.differential is None:
            self.step("The differential", f"{self.df} = 0: f does not depend on {x.name}",
                      f"{self._d_latex()} = 0")
            self.identification()
            return self.ex
        first = d.levels[0][1]
        if len(d.levels) > 1 or first != dx:
            from .differential import pending
            self.equation("Take the differential (Magnus & Neudecker, ch. 8)", pending(f))
        for titles, tree in d.levels:
            self.equation(self.rules(titles), tree)
        if d.result is None and not d.terms:
            self.no_closed_form()
            return self.ex
        self.moves()
        self.collect()
        self.identification()
        return self.ex

    @staticmethod
    def rules(titles: list[tuple[str, str]]) -> str:
        by_title: dict[str, list[str]] = {}
        for title, rule in titles:
            by_title.setdefault(title, [])
            if rule and rule not in by_title[title]:
                by_title[title].append(rule)
        return "; ".join(f"{t}: {', '.join(r)}" if r else t for t, r in by_title.items())

    def moves(self) -> None:
        d, dx = self.d, self.d.dx
        if d.form == "scalar":
            (term,) = d.terms
            self.equation(f"{dx.name} is a scalar: it factors out of every term",
                          canonical(term.factor, dx))
            return
        what = {"gradient": "tr(Gᵀ dX)" if dx.ty.kind == "matrix" else "gᵀ dx",
                "jacobian": "J dx"}[d.form]
        for term in d.terms:
            moves = []
            for _, _, move in term.path:
                if (move.title, move.rule) not in moves:
                    moves.append((move.title, move.rule))
            if not moves:
                continue
            target = canonical(term.factor, dx) if d.form == "gradient" else \
                build.apply("matmul", term.factor, dx)
            title = f"The term as {what}: " + self.rules(moves)
            self.step(title, f"{show(term.term, self.names)} = {show(target, self.names)}",
                      f"{show(term.term, self.names, True)} &= {show(target, self.names, True)}")

    def collect(self) -> None:
        d, dx = self.d, self.d.dx
        form = (lambda g: canonical(g, dx)) if d.form != "jacobian" else \
            (lambda g: build.apply("matmul", g, dx))
        shown = show(form(d.collected), self.names)
        if len(d.terms) > 1:
            self.equation(f"Collect the terms: {FORMS[d.form][0]}", form(d.collected))
        if show(form(d.simplified), self.names) != shown:
            self.equation("Simplify", form(d.simplified))

    def identification(self) -> None:
        d, x = self.d, self.d.x
        words = {"scalar": "dF = G dx", "gradient": "df = tr(Gᵀ dX)" if x.ty.kind == "matrix"
                 else "df = gᵀ dx", "jacobian": "dF = J dx"}.get(d.form, "")
        gives = {"scalar": "∂F/∂x = G", "gradient": "∂f/∂X = G" if x.ty.kind == "matrix"
                 else "∂f/∂x = g", "jacobian": "∂F/∂x = J (the Jacobian)"}.get(d.form, "")
        name = f"∂{'f' if d.f.ty.is_scalar else 'F'}/∂{x.name}"
        latex_name = (f"\\frac{{\\partial {'f' if d.f.ty.is_scalar else 'F'}}}"
                      f"{{\\partial {x.latex()}}}")
        self.step(f"Identify ({FIRST}): {words} ⟺ {gives}",
                  f"{name} = {d.simplified}", f"{latex_name} &= {d.simplified.latex()}")
        if str(d.result) != str(d.simplified):
            self.step("With the assumptions", f"{name} = {d.result}",
                      f"{latex_name} &= {d.result.latex()}")

    def no_closed_form(self) -> None:
        d = self.d
        try:
            simplified = normal_form(d.differential)
        except Exception:  # noqa: BLE001 - the differential as taken is the answer then
            simplified = d.differential
        self.equation(f"No closed matrix form: {d.reason}; the differential is the answer",
                      simplified)
