"""The lesson's expressions, run through matrixcalc: `make demo` (`python -m matrixcalc.demo`).

`LESSON` is the lesson (shared/seed/matrix-calculus-lesson.txt) as data: each case is an
expression, the variable(s) it is differentiated by, the lesson's closed-form answer and
the declarations it needs. Today the demo parses every case and prints its canonical
text, kind, shape and symbol table; where `matrixcalc.check.verify` is importable it also
checks each identity `d/dWRT EXPR = ANSWER` numerically (✓ holds, ✗ does not). Cases with
several variables (Jacobians and Hessians of stacked scalars) wait for `jacobian` and
`hessian`. Invariant: the demo never stops on one case's error; it reports it and goes on,
and exits 1 only when a case that should parse does not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LessonCase:
    section: str  # where in the lesson
    title: str
    expr: str
    wrt: tuple[str, ...] = ()  # one symbol: d/dWRT; several: the stacked variable
    answer: str | None = None  # the lesson's closed form of the derivative
    where: str | None = None
    note: str = ""  # what the reader should notice
    holds: bool = True  # False: the lesson's answer is expected to fail the check

    @property
    def statement(self) -> str | None:
        """`d/dx EXPR = ANSWER`, for a single variable with an answer."""
        if self.answer is None or len(self.wrt) != 1:
            return None
        return f"d/d{self.wrt[0]} {self.expr} = {self.answer}"


def case(section: str, title: str, expr: str, wrt: str = "", answer: str | None = None,
         where: str | None = None, note: str = "", holds: bool = True) -> LessonCase:
    return LessonCase(section, title, expr, tuple(w.strip() for w in wrt.split(",") if w),
                      answer, where, note, holds)


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
    case("3.4", "Hessian of x^2 + xy + 2y^2", "x^2 + x y + 2 y^2", "x, y", "[2, 1; 1, 4]"),
    case("3.5", "convex bowl", "x^2 + 2 y^2", "x, y", "[2, 0; 0, 4]"),
    case("3.5", "saddle", "x^2 - y^2", "x, y", "[2, 0; 0, -2]"),
    # 4.1 the identity table
    case("4.1", "a^T x", "a^T x", "x", "a"),
    case("4.1", "x^T x", "x^T x", "x", "2 x"),
    case("4.1", "x^T A x", "x^T A x", "x", "(A + A^T) x"),
    case("4.1", "a^T X b", "a^T X b", "X", "a b^T"),
    case("4.1", "tr(AB) by A", "tr(A B)", "A", "B^T"),
    case("4.1", "log|A|", "log(|A|)", "A", "A^-T"),
    case("4.1", "x^T A^-1 x by A, as printed", "x^T A^-1 x", "A", "-A^-1 x x^T A^-1",
         note="the lesson's form holds only for a symmetric A: expect ✗", holds=False),
    case("4.1", "x^T A^-1 x by A, A symmetric", "x^T A^-1 x", "A", "-A^-1 x x^T A^-1",
         where="A: symmetric"),
    case("4.1", "x^T A^-1 x by A, in general", "x^T A^-1 x", "A", "-A^-T x x^T A^-T"),
    # 5 machine learning
    case("5.1", "MSE loss", "1/(2n) ||y - X w||^2", "w", "-1/n X^T (y - X w)"),
    case("5.3", "softmax cross-entropy", "-y^T log(softmax(z))", "z", "softmax(z) - y",
         where="y: distribution", note="y one-hot, or any distribution"),
    case("5.6", "linear layer", "W x + b", "x", "W"),
    case("5.6", "linear layer: dL/dW", "g^T (W x + b)", "W", "g x^T",
         note="g = dL/dz, the upstream gradient"),
    case("5.6", "linear layer: dL/db", "g^T (W x + b)", "b", "g"),
    case("5.6", "linear layer: dL/dx", "g^T (W x + b)", "x", "W^T g"),
    # 6 automatic differentiation
    case("6.2", "computational graph", "(x + y)(x - y)", "x", "2 x"),
    case("6.3", "ReLU layer: dL/dx", "sum(relu(W x + b))", "x", "W^T step(W x + b)"),
    case("6.3", "ReLU layer: dL/dW", "sum(relu(W x + b))", "W", "step(W x + b) x^T"),
    case("6.4", "higher order: x^4", "x^4", "x", "4 x^3"),
    # practice problems
    case("P1", "quadratic form", "x^T A x", "x", "(A + A^T) x"),
    case("P2", "logistic regression",
         "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))", "w",
         "1/n X^T (sigmoid(X w) - y)"),
    case("P3", "batch normalization (forward)",
         "(x - mean(x) ones) / sqrt(mean((x - mean(x) ones).^2) + eps)"),
    case("P4", "softmax Jacobian", "softmax(z)", "z",
         "diag(softmax(z)) - softmax(z) softmax(z)^T"),
    case("P5", "ridge regression", "1/(2n) ||y - X w||^2 + λ/2 ||w||^2", "w",
         "1/n X^T (X w - y) + λ w"),
)


def find_verify() -> Callable | None:
    """`matrixcalc.check.verify` where it exists; None skips the check column."""
    try:
        from matrixcalc.check import verify
    except ImportError:
        return None
    return verify


def shape_words(kind: str, dims) -> str:
    if not dims:
        return kind
    return f"{kind} ({'×'.join(str(d) for d in dims)})"


def symbol_lines(expr) -> list[str]:
    infos = list(expr.shapes.values())
    cells = [(i.name, shape_words(i.kind, i.shape.dims), ", ".join(sorted(i.assumptions)),
              f"({i.origin})") for i in infos]
    if not cells:
        return ["(none)"]
    widths = [max(len(row[k]) for row in cells) for k in range(4)]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


def check_case(lesson: LessonCase, verify: Callable | None) -> tuple[str, str]:
    """(mark, detail): ✓/✗ from the numeric checker, or why there is no check yet."""
    if lesson.answer is None:
        return "·", "no derivative in the lesson"
    if len(lesson.wrt) > 1:
        return "·", "several variables: waits for jacobian/hessian"
    if verify is None:
        return "·", "checker not built yet"
    from matrixcalc.errors import MatrixCalcError
    try:
        verdict = verify(lesson.statement, where=lesson.where)
    except MatrixCalcError as error:
        return "?", f"{error.kind}: {error.message}"
    except Exception as error:  # noqa: BLE001  a checker bug must not stop the demo
        return "?", f"internal error: {type(error).__name__}: {error}"
    expected = "" if verdict.holds == lesson.holds else "  UNEXPECTED"
    if verdict.holds:
        return "✓", f"holds ({verdict.how}){expected}"
    return "✗", f"does not hold ({verdict.how}){expected}"


def show(lesson: LessonCase, number: int, verify: Callable | None) -> tuple[bool, str]:
    """Print one case; returns (parsed, check mark)."""
    import matrixcalc as mc

    where = f"   where {lesson.where}" if lesson.where else ""
    print(f"[{number:2}] §{lesson.section} {lesson.title}{where}")
    try:
        expr = mc.parse(lesson.expr, where=lesson.where)
    except mc.MatrixCalcError as error:
        print(f"     input    {lesson.expr}")
        print("     ✗ " + str(error).replace("\n", "\n       "))
        print()
        return False, "parse"
    label = "     {:<9}{}"
    print(label.format("parsed", str(expr)))
    print(label.format("kind", shape_words(expr.kind, expr.shape)))
    print(label.format("latex", expr.latex()))
    for k, line in enumerate(symbol_lines(expr)):
        print(label.format("symbols" if k == 0 else "", line))
    mark = "·"
    if lesson.answer is not None:
        wrt = ", ".join(lesson.wrt)
        name = "∂/∂" + (f"({wrt})" if len(lesson.wrt) > 1 else wrt)
        mark, detail = check_case(lesson, verify)
        print(label.format("lesson", f"{name} = {lesson.answer}"))
        print(label.format("check", f"{mark} {detail}"))
    if lesson.note:
        print(label.format("note", lesson.note))
    print()
    return True, mark


def summary_table(rows: list[tuple[str, ...]]) -> list[str]:
    header = ("#", "§", "expression", "kind", "∂/∂", "check")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return [line(header), line(tuple("─" * w for w in widths))] + [line(r) for r in rows]


def main() -> int:
    import matrixcalc as mc

    verify = find_verify()
    print("matrixcalc demo: the expressions of the matrix-calculus lesson\n")
    if verify is None:
        print("(derive and the numeric checker are coming: today each expression is parsed "
              "and typed;\n the lesson's answers are shown, not yet checked)\n")
    rows = []
    parsed = 0
    marks = []
    for n, lesson in enumerate(LESSON, 1):
        ok, mark = show(lesson, n, verify)
        parsed += ok
        marks.append(mark)
        kind = "—"
        if ok:
            expr = mc.parse(lesson.expr, where=lesson.where)
            kind = shape_words(expr.kind, expr.shape)
        text = lesson.expr if len(lesson.expr) <= 44 else lesson.expr[:43] + "…"
        rows.append((str(n), lesson.section, text, kind, ", ".join(lesson.wrt), mark))
    print("\n".join(summary_table(rows)))
    print()
    summary = f"{parsed} of {len(LESSON)} lesson expressions parsed"
    if verify is not None:
        summary += (f"; identities: {marks.count('✓')} hold, {marks.count('✗')} do not "
                    f"({sum(not c.holds for c in LESSON)} expected not to), "
                    f"{marks.count('?')} could not be checked")
    print(summary)
    return 0 if parsed == len(LESSON) else 1


if __name__ == "__main__":
    sys.exit(main())
