"""The matrix-calculus lesson, derived and checked by matrixcalc: `make demo`
(`python -m matrixcalc.demo`).

`LESSON` is the lesson (shared/seed/matrix-calculus-lesson.txt) as data: each case is an
expression, the variable(s) it is differentiated by, the lesson's closed-form answer and
the declarations it needs. For each case the demo

1. derives the closed form: `mc.derive` for one variable, `mc.jacobian` / `mc.hessian`
   for a list of scalars stacked into one variable, `mc.hessian` for `order=2`;
2. compares it with the lesson's answer: `mc.verify("d/dX EXPR = ANSWER")` (symbolic
   when the canonical forms match, numeric otherwise); for a Hessian the statement is
   `d/dX GRADIENT = ANSWER`; for a stacked Jacobian or Hessian `DERIVED = ANSWER`;
3. checks the derived closed form against torch.autograd on random inputs:
   `mc.check(expr, wrt, result=derived)` (stacked variables: the derived matrix, through
   `mc.lambdify(..., backend="torch")`, against `torch.autograd.functional`).

A case the engine cannot differentiate yet (`supported=False`) is shown as "not yet
supported" with the first line of the engine's error. Invariant: one case's failure never
stops the demo. Exit status 0 when every supported case derives, agrees with the lesson
as expected (`holds=False` marks a lesson answer that is expected not to hold) and checks
out against autograd; 1 otherwise. Seeds are fixed, so two runs print the same text.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

SEED = 2024  # every random draw of the demo; the output is reproducible
TRIALS = 5


@dataclass(frozen=True)
class LessonCase:
    section: str  # where in the lesson
    title: str
    expr: str
    wrt: tuple[str, ...] = ()  # one symbol: d/dWRT; several: the stacked variable
    answer: str | None = None  # the lesson's closed form of the derivative
    where: str | None = None
    note: str = ""  # what the reader should notice
    holds: bool = True  # False: the lesson's answer is expected to fail the comparison
    order: int = 1  # 2: the Hessian
    gradient: str | None = None  # order 2 with one variable: the gradient the Hessian
    #                               is compared through (d/dX GRADIENT = ANSWER)
    then: str | None = None  # an identity that follows, verified too (LHS = RHS)
    supported: bool = True  # False: the engine cannot differentiate it yet

    @property
    def stacked(self) -> bool:
        return len(self.wrt) > 1

    @property
    def statement(self) -> str | None:
        """`d/dx EXPR = ANSWER` (or `d/dx GRADIENT = ANSWER` for a Hessian)."""
        if self.answer is None or self.stacked:
            return None
        if self.order == 2:
            return f"d/d{self.wrt[0]} {self.gradient} = {self.answer}" if self.gradient else None
        return f"d/d{self.wrt[0]} {self.expr} = {self.answer}"


def case(section: str, title: str, expr: str, wrt: str = "", answer: str | None = None,
         **options) -> LessonCase:
    return LessonCase(section, title, expr, tuple(w.strip() for w in wrt.split(",") if w),
                      answer, **options)


LOGISTIC = "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"
BATCHNORM = "(x - mean(x) ones) / sqrt(mean((x - mean(x) ones).^2) + eps)"

LESSON: tuple[LessonCase, ...] = (
    # 1.2 basic examples
    case("1.2", "example 1: linear form", "a^T x", "x", "a"),
    case("1.2", "example 2: squared norm", "x^T x", "x", "2 x"),
    case("1.2", "example 3: quadratic form", "x^T A x", "x", "(A + A^T) x"),
    case("1.2", "example 3, A symmetric", "x^T A x", "x", "2 A x", where="A: symmetric"),
    case("1.3", "the quadratic form with the lesson's A", "x^T [2, 1; 1, 3] x", "x",
         "[4, 2; 2, 6] x"),
    # 2 Jacobians
    case("2.3", "Jacobian of f: R^2 -> R^3", "[x1^2 + x2; x1 x2; sin(x1) + cos(x2)]",
         "x1, x2", "[2 x1, 1; x2, x1; cos(x1), -sin(x2)]"),
    case("2.4", "chain rule: h = g(f(x))", "[x1^2 (x1 + x2); x1^2 - (x1 + x2)]", "x1, x2",
         "[3 x1^2 + 2 x1 x2, x1^2; 2 x1 - 1, -1]"),
    # 3 Hessians
    case("3.3", "Newton's method: the gradient", "1/2 x^T A x - b^T x", "x", "A x - b",
         where="A: symmetric"),
    case("3.3", "Newton's method: the Hessian", "1/2 x^T A x - b^T x", "x", "A",
         where="A: symmetric", order=2, gradient="A x - b",
         then="x - A^-1 (A x - b) = A^-1 b",
         note="so one Newton step x - H^-1 ∇f lands on the minimum A^-1 b"),
    case("3.4", "Hessian of x^2 + xy + 2y^2", "x^2 + x y + 2 y^2", "x, y", "[2, 1; 1, 4]",
         order=2),
    case("3.5", "convex bowl", "x^2 + 2 y^2", "x, y", "[2, 0; 0, 4]", order=2),
    case("3.5", "saddle", "x^2 - y^2", "x, y", "[2, 0; 0, -2]", order=2),
    # 4.1 the identity table
    case("4.1", "a^T x", "a^T x", "x", "a"),
    case("4.1", "x^T x", "x^T x", "x", "2 x"),
    case("4.1", "x^T A x", "x^T A x", "x", "(A + A^T) x"),
    case("4.1", "a^T X b", "a^T X b", "X", "a b^T"),
    case("4.1", "tr(AB) by A", "tr(A B)", "A", "B^T"),
    case("4.1", "log|A|", "log(|A|)", "A", "A^-T"),
    case("4.1", "x^T A^-1 x by A, as printed", "x^T A^-1 x", "A", "-A^-1 x x^T A^-1",
         note="the lesson's form needs a symmetric A: for a general A it is expected ✗",
         holds=False),
    case("4.1", "x^T A^-1 x by A, A symmetric", "x^T A^-1 x", "A", "-A^-1 x x^T A^-1",
         where="A: symmetric"),
    # 5 machine learning
    case("5.1", "MSE loss", "1/(2n) ||y - X w||^2", "w", "-1/n X^T (y - X w)"),
    case("5.3", "softmax cross-entropy, any y", "-y^T log(softmax(z))", "z",
         "softmax(z) - y", holds=False,
         note="the lesson's form assumes sum(y) = 1 (one-hot y): in general it is "
              "expected ✗"),
    case("5.3", "softmax cross-entropy, y a distribution", "-y^T log(softmax(z))", "z",
         "softmax(z) - y", where="y: distribution"),
    case("5.6", "linear layer z = W x + b", "W x + b", "x", "W"),
    case("5.6", "linear layer: dL/dW", "g^T (W x + b)", "W", "g x^T",
         note="g = dL/dz, the upstream gradient"),
    case("5.6", "linear layer: dL/db", "g^T (W x + b)", "b", "g"),
    case("5.6", "linear layer: dL/dx", "g^T (W x + b)", "x", "W^T g"),
    # 6 automatic differentiation
    case("6.2", "computational graph", "(x + y)(x - y)", "x", "2 x"),
    case("6.3", "ReLU layer: dL/dx", "sum(relu(W x + b))", "x", "W^T step(W x + b)"),
    case("6.3", "ReLU layer: dL/dW", "sum(relu(W x + b))", "W", "step(W x + b) x^T"),
    case("6.4", "higher order: x^4", "x^4", "x", "4 x^3"),
    case("6.4", "higher order: x^4, twice", "x^4", "x", "12 x^2", order=2,
         gradient="4 x^3"),
    # practice problems
    case("P1", "quadratic form", "x^T A x", "x", "(A + A^T) x"),
    case("P2", "logistic regression", LOGISTIC, "w", "1/n X^T (sigmoid(X w) - y)"),
    case("P2", "logistic regression: the Hessian", LOGISTIC, "w",
         "1/n X^T diag(sigmoid(X w) ⊙ (ones - sigmoid(X w))) X", order=2,
         gradient="1/n X^T (sigmoid(X w) - y)",
         note="not in the lesson: the textbook form X^T S X / n, S = diag(σ(1 - σ))"),
    case("P3", "batch normalization", f"sum(g ⊙ {BATCHNORM})", "x",
         "(g - mean(g) ones - x_hat mean(g ⊙ x_hat))/sqrt(mean((x - mean(x) ones).^2) + eps)"
         .replace("x_hat", f"({BATCHNORM})"),
         note="the loss L = g^T x_hat, g = dL/dx_hat"),
    case("P4", "softmax Jacobian", "softmax(z)", "z",
         "diag(softmax(z)) - softmax(z) softmax(z)^T"),
    case("P5", "ridge regression", "1/(2n) ||y - X w||^2 + λ/2 ||w||^2", "w",
         "1/n X^T (X w - y) + λ w"),
)


# -- the three steps ----------------------------------------------------------------------

def derive(lesson: LessonCase):
    """The engine's closed form: derive, jacobian or hessian."""
    import matrixcalc as mc

    if lesson.stacked:
        wrt = list(lesson.wrt)
        if lesson.order == 2:
            return mc.hessian(lesson.expr, wrt, where=lesson.where)
        return mc.jacobian(lesson.expr, wrt, where=lesson.where)
    if lesson.order == 2:
        return mc.hessian(lesson.expr, lesson.wrt[0], where=lesson.where)
    return mc.derive(lesson.expr, lesson.wrt[0], where=lesson.where)


def compare(lesson: LessonCase, derived) -> tuple[bool | None, str]:
    """(holds, words): the lesson's answer against the derived form, through mc.verify."""
    import matrixcalc as mc

    statement = lesson.statement
    if lesson.stacked:
        statement = f"{derived} = {lesson.answer}"
    if statement is None:
        return None, "no statement to compare"
    verdict = mc.verify(statement, where=lesson.where, seed=SEED)
    return verdict.holds, verdict.how


def autograd_check(lesson: LessonCase, derived) -> tuple[bool, float]:
    """(ok, max error) of the derived form against torch.autograd."""
    import matrixcalc as mc

    if not lesson.stacked:
        report = mc.check(lesson.expr, lesson.wrt[0], result=derived, where=lesson.where,
                          order=lesson.order, trials=TRIALS, seed=SEED)
        return report.ok, report.max_error
    return _stacked_check(lesson, derived)


def _stacked_check(lesson: LessonCase, derived) -> tuple[bool, float]:
    """A Jacobian/Hessian by stacked scalars: the derived matrix, evaluated through
    mc.lambdify, against torch.autograd.functional at random points."""
    import torch

    import matrixcalc as mc

    f = mc.lambdify(lesson.expr, backend="torch", where=lesson.where)
    closed = mc.lambdify(derived, backend="torch", where=lesson.where)
    generator = torch.Generator().manual_seed(SEED)
    worst = 0.0
    for _ in range(TRIALS):
        point = torch.randn(len(lesson.wrt), dtype=torch.float64, generator=generator)

        def function(u, names=lesson.wrt):
            return f(**dict(zip(names, u)))

        functional = torch.autograd.functional
        truth = (functional.hessian if lesson.order == 2 else functional.jacobian)(
            function, point)
        value = torch.as_tensor(closed(**dict(zip(lesson.wrt, point))),
                                dtype=torch.float64)
        error = (value - truth).abs().max().item() / max(1.0, truth.abs().max().item())
        worst = max(worst, error)
    return worst < 1e-8, worst


# -- printing -----------------------------------------------------------------------------

LABEL = "     {:<10}{}"


def first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


@dataclass
class Outcome:
    status: str  # "checked", "unsupported", "failed"
    derived: str = "—"
    agree: str = "·"
    check: str = "·"


def show(lesson: LessonCase, number: int) -> Outcome:
    """Print one case; returns what happened."""
    import matrixcalc as mc

    where = f"   where {lesson.where}" if lesson.where else ""
    print(f"[{number:2}] §{lesson.section} {lesson.title}{where}")
    wrt = ", ".join(lesson.wrt)
    var = f"[{wrt}]" if lesson.stacked else wrt
    name = {1: "∂/∂", 2: "∂²/∂"}[lesson.order] + (var if not lesson.stacked else var)
    what = ("Jacobian" if not lesson.order == 2 else "Hessian") if lesson.stacked else (
        "Hessian" if lesson.order == 2 else "derive")
    print(LABEL.format("f", lesson.expr))
    print(LABEL.format("by", f"{var}   ({what})"))
    try:
        derived = derive(lesson)
    except mc.MatrixCalcError as error:
        if lesson.supported:
            print(LABEL.format("derived", f"✗ {error.kind}: {first_line(error)}"))
            print()
            return Outcome("failed", agree="✗", check="✗")
        print(LABEL.format("derived", "not yet supported"))
        print(LABEL.format("why", first_line(error)))
        if lesson.note:
            print(LABEL.format("note", lesson.note))
        print()
        return Outcome("unsupported", derived="not yet supported")
    except Exception as error:  # noqa: BLE001  an engine bug must not stop the demo
        print(LABEL.format("derived", f"✗ internal error: {type(error).__name__}: {error}"))
        print()
        return Outcome("failed", agree="✗", check="✗")
    print(LABEL.format("derived", f"{name} = {derived}"))
    failed = False
    outcome = Outcome("checked", derived=str(derived))
    if lesson.answer is not None:
        try:
            holds, how = compare(lesson, derived)
        except Exception as error:  # noqa: BLE001
            holds, how = None, f"could not compare: {first_line(error)}"
        if holds is None:
            mark, words = "?", how
            failed = True
        elif holds:
            mark, words = "✓", f"agrees ({how})"
        else:
            mark, words = "✗", f"does not agree ({how})"
        if holds is not None and holds != lesson.holds:
            words += "   UNEXPECTED"
            failed = True
        elif holds is False:
            words += "   (expected)"
        outcome.agree = mark
        print(LABEL.format("lesson", f"{lesson.answer}   {mark} {words}"))
    try:
        ok, error = autograd_check(lesson, derived)
        mark = "✓" if ok else "✗"
        check = f"{mark} max error {error:.1e} over {TRIALS} random draws"
    except Exception as exc:  # noqa: BLE001
        ok, mark, check = False, "✗", f"✗ could not check: {first_line(exc)}"
    failed |= not ok
    outcome.check = mark
    print(LABEL.format("autograd", check))
    if lesson.then:
        try:
            verdict = mc.verify(lesson.then, where=lesson.where, seed=SEED)
            held = verdict.holds
            print(LABEL.format("then", f"{lesson.then}   "
                               f"{'✓ holds' if held else '✗ does not hold'} ({verdict.how})"))
        except Exception as exc:  # noqa: BLE001
            held = False
            print(LABEL.format("then", f"{lesson.then}   ✗ {first_line(exc)}"))
        failed |= not held
    if lesson.note:
        print(LABEL.format("note", lesson.note))
    print()
    if failed:
        outcome.status = "failed"
    return outcome


def summary_table(rows: list[tuple[str, ...]]) -> list[str]:
    header = ("#", "§", "by", "derived", "lesson", "autograd")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return [line(header), line(tuple("─" * w for w in widths))] + [line(r) for r in rows]


def main() -> int:
    start = time.perf_counter()
    print("matrixcalc demo: the matrix-calculus lesson, derived and checked\n")
    print("Each case: f and the variable, the closed form matrixcalc derives, the lesson's")
    print("answer compared with it (mc.verify: symbolic when the canonical forms match,")
    print("numeric otherwise), and the derived form checked against torch.autograd on")
    print(f"random inputs of random sizes (mc.check; seed {SEED}).\n")
    outcomes = []
    rows = []
    for n, lesson in enumerate(LESSON, 1):
        outcome = show(lesson, n)
        outcomes.append(outcome)
        derived = outcome.derived if len(outcome.derived) <= 48 else outcome.derived[:47] + "…"
        by = ", ".join(lesson.wrt) + (" (H)" if lesson.order == 2 else "")
        rows.append((str(n), lesson.section, by, derived, outcome.agree, outcome.check))
    print("\n".join(summary_table(rows)))
    print()
    checked = sum(o.status == "checked" for o in outcomes)
    unsupported = sum(o.status == "unsupported" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    summary = (f"{checked} derived and checked, {unsupported} not yet supported"
               + (f", {failed} FAILED" if failed else "")
               + f" ({len(LESSON)} lesson cases, {time.perf_counter() - start:.1f} s)")
    print(summary)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
