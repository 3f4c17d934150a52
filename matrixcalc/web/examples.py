"""The examples the page offers to click: the lesson's cases (matrixcalc/demo.py LESSON,
each once), machine-learning losses, claims to verify (one false) and derivations to
explain. Each is the page's inputs: operation, expression, variables, declarations.
"""

from __future__ import annotations

from ..demo import LESSON, LOGISTIC

ML = (
    ("logistic regression", LOGISTIC, "w", ""),
    ("softmax cross-entropy", "-y^T log(softmax(z))", "z", ""),
    ("softmax cross-entropy, y a distribution", "-y^T log(softmax(z))", "z",
     "y: distribution"),
    ("mean squared error", "1/(2n) ||y - X w||^2", "w", "X: matrix(n, d)"),
    ("ridge regression", "1/(2n) ||y - X w||^2 + λ/2 ||w||^2", "w", "X: matrix(n, d)"),
    ("two-layer network", "||W2 tanh(W1 x) - y||^2", "W1", ""),
    ("log-sum-exp of attention scores", "logsumexp(K q / sqrt(d))", "q", "d: scalar"),
)
CLAIMS = (
    ("a false claim: d/dX tr(A X) = A", "d/dX tr(A X) = A", ""),
    ("d/dX tr(A X) = A^T", "d/dX tr(A X) = A^T", ""),
    ("(A B)^T = B^T A^T", "(A B)^T = B^T A^T", ""),
    ("d/dx x^T A x = 2 A x, A symmetric", "d/dx x^T A x = 2 A x", "A: symmetric"),
)
EXPLAINED = (
    ("x^T A x by x", "x^T A x", "x", ""),
    ("log det by A", "log(|A|)", "A", ""),
)


def example(group: str, title: str, operation: str, expression: str, wrt: str = "",
            where: str = "") -> dict:
    return {"group": group, "title": title, "operation": operation,
            "expression": expression, "wrt": wrt, "where": where}


def _lesson() -> list[dict]:
    out, seen = [], set()
    for case in LESSON:
        operation = "hessian" if case.order == 2 else (
            "jacobian" if case.stacked else "derive")
        key = (operation, case.expr, case.wrt, case.where)
        if key in seen:
            continue
        seen.add(key)
        out.append(example("the lesson", f"§{case.section} {case.title}", operation,
                           case.expr, ", ".join(case.wrt), case.where or ""))
    return out


def examples() -> list[dict]:
    return (_lesson()
            + [example("machine learning", *item[:1], "derive", *item[1:]) for item in ML]
            + [example("verify", title, "verify", statement, "", where)
               for title, statement, where in CLAIMS]
            + [example("explain", *item[:1], "explain", *item[1:]) for item in EXPLAINED])
