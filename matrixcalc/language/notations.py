"""Hints for notations people paste that the language does not read (SPEC section 1).

The grammar reads the unambiguous ones itself (`x.T`, `@`, `**`, `Aᵀ`, `A⁻¹`, `^\\top`,
`^(-1)`, `trace(…)`); what is left here is a ParseError's hint naming the notation to
use instead: LaTeX commands, numpy and torch attribute calls, and functions of other
libraries. Each hint is decided from the text at the error's position, so adding a
notation is one entry in a table below.
"""

from __future__ import annotations

import difflib
import re

from ..ops import FUNCTIONS

# Functions of numpy, torch, SciPy and papers, by the name after the last dot.
FOREIGN_FUNCTIONS = {
    "inv": "write `A^-1` for the inverse",
    "inverse": "write `A^-1` for the inverse",
    "solve": "write `A^-1 b` for the solution of A x = b",
    "transpose": "write `A^T` (or `A.T`) for the transpose",
    "trace": "write `tr(A)`",
    "matmul": "write a product with a space, `*` or `@`: `A B`",
    "dot": "write a product with a space, `*` or `@`: `x^T y` for an inner product",
    "inner": "write `x^T y` for an inner product",
    "outer": "write `x y^T` for an outer product",
    "multiply": "write `A .* B` (or `A ⊙ B`) for the elementwise product",
    "divide": "write `A ./ B` for the elementwise quotient",
    "power": "write `x.^k` for an elementwise power",
    "square": "write `x.^2` for the elementwise square",
    "slogdet": "write `logdet(A)` (log |det A|)",
    "ln": "write `log(x)`",
    "max": "there is no `max` (it has no derivative at ties); `logsumexp(x)` is the "
           "smooth maximum",
    "min": "there is no `min` (it has no derivative at ties); `-logsumexp(-x)` is the "
           "smooth minimum",
    "amax": "there is no `max` (it has no derivative at ties); `logsumexp(x)` is the "
            "smooth maximum",
    "Tr": "write `tr(A)`",
    "eye": "write `I` for the identity matrix",
    "matrix_exp": "write `expm(X)` for the matrix exponential",
    "cholesky": "write `chol(S)` for the lower Cholesky factor",
    "eigvalsh": "write `eigmax(S)` or `eigmin(S)` for the extreme eigenvalues",
    "eigh": "write `eigmax(S)`, `eigmin(S)` and `eigvecmax(S)`, `eigvecmin(S)` for the "
            "extreme eigenvalues and their unit eigenvectors",
    "svdvals": "write `||X||_2` for the largest singular value, `||X||_*` for their sum",
    "solve_sylvester": "write `sylvester(A, B, C)` for the Y with A Y + Y B = C",
    "expm_frechet": "write `dexpm(X, E)` for the Fréchet derivative of expm",
    "ones": "write `ones` for the all-ones vector",
}

LATEX_COMMANDS = {
    "frac": "write a quotient with `/`: `a / b`",
    "cdot": "write a product with a space or `*`",
    "times": "write a product with a space or `*` (`⊗` or `kron(A, B)` for Kronecker)",
    "odot": "write `⊙` or `.*` for the elementwise product",
    "circ": "write `⊙` or `.*` for the elementwise product",
    "otimes": "write `⊗` or `kron(A, B)` for the Kronecker product",
    "left": "drop `\\left` and `\\right`: write plain parentheses",
    "right": "drop `\\left` and `\\right`: write plain parentheses",
    "|": "write `||x||` for a norm",
    "sum": "write `sum(x)` for the sum of entries",
    "top": "write `^T` for a transpose: `A^T`",
    "intercal": "write `^T` for a transpose: `A^T`",
    "lVert": "write `||x||` for a norm",
    "Vert": "write `||x||` for a norm",
}
WRAPPERS = ("operatorname", "mathrm", "text", "mathop", "rm",  # \operatorname{tr}
            "mathbf", "boldsymbol", "bm", "mathit")
GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "kappa", "lambda", "mu",
         "nu", "rho", "sigma", "tau", "omega", "theta", "phi", "psi", "xi", "zeta", "pi")
MODULES = ("np", "numpy", "torch", "jnp", "jax", "scipy", "sp", "la", "linalg", "F",
           "nn", "special", "math", "tf")

LATEX = re.compile(r"\\(\||[A-Za-z]+)\s*(?:\{\s*([A-Za-z]+)\s*\})?")
DOTTED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)?((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def pasted_hint(text: str, position: int) -> str | None:
    """A hint for a foreign notation starting at `position` (a `\\` or a `.`), or None."""
    if text.startswith("\\", position):
        return _latex_hint(text, position)
    if text.startswith(".", position):
        return _attribute_hint(text, position)
    return None


def function_hint(name: str) -> str:
    """The hint of an unknown function: another library's name for one of ours, a
    close spelling of one of ours, or how to write a product or teach a function."""
    if name in FOREIGN_FUNCTIONS:
        return FOREIGN_FUNCTIONS[name]
    close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.75)
    if close:
        return f"did you mean `{close[0]}`?"
    return ("for a product, put a space or * before the parenthesis: "
            f"`{name} (…)`; a table's `functions:` can teach new functions")


def _latex_hint(text: str, position: int) -> str:
    match = LATEX.match(text, position)
    command, argument = (match.group(1), match.group(2)) if match else ("", None)
    if command in WRAPPERS and argument:
        if argument in FUNCTIONS or argument == "trace":
            return f"write `{'tr' if argument == 'trace' else argument}(…)` for " \
                   f"`\\{command}{{{argument}}}`"
        return f"write the name alone: `{argument}`"
    if command in LATEX_COMMANDS:
        return LATEX_COMMANDS[command]
    if command in FUNCTIONS or command == "tr":
        return f"write `{command}(…)` without the backslash"
    if command in GREEK:
        return f"write `{command}` without the backslash (or the letter itself)"
    return ("LaTeX commands are not read (except `^\\top`): write the expression in "
            "matrixcalc's notation (docs/language.md)")


def _attribute_hint(text: str, position: int) -> str | None:
    start = position
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    match = DOTTED.match(text, start)
    if not match:
        return None
    owner, path = match.group(1), match.group(2).lstrip(".").split(".")
    last = path[-1]
    if last == "I":
        return "numpy's `.I` is the inverse: write `A^-1`"
    if owner in MODULES:
        if last in FOREIGN_FUNCTIONS:
            return FOREIGN_FUNCTIONS[last]
        if last in FUNCTIONS:
            return f"drop the `{owner}.` prefix: write `{last}(…)`"
        return f"write the expression without `{owner}.`: names are symbols, " \
               "functions are called bare (`exp(x)`, `tr(A)`)"
    if last in FOREIGN_FUNCTIONS:
        return FOREIGN_FUNCTIONS[last]
    if last in FUNCTIONS:
        return f"call it as a function: `{last}({owner or '…'})`"
    return "methods are not read: write `x.T` or `x^T`, and call functions bare " \
           "(`sum(x)`, `tr(A)`)"
