"""Numeric truth: `check` a derivative and `verify` a claim against torch.autograd.

`check(expr, wrt, result)` compares a claimed derivative with `torch.func.jacrev` (or
its second application, `order=2`, the Hessian) of the original expression, evaluated by
the same tree evaluator on the torch backend, in float64, at random points drawn by
`matrixcalc.numbers.sampling` (assumptions and operator domains honoured, distinct sizes).
`verify("LHS = RHS")` compares the two sides the same way; `verify("d/dX F = R")` is
`check(F, X, R)`. A claim that fails at one point is false, with that point as a
counterexample; one that holds at every point of several independent draws (sizes
differ between draws) is true, how="numeric". Identical canonical forms make it
how="symbolic" (`_symbolic_verdict`, the hook); a derivative claim whose right side is also
what the derivation by differentials gives, independent of the index form's, is proved
twice: how="two derivations". Either is confirmed numerically.

A false claim is diagnosed where it is off in a standard way (numbers.diagnosis). A
right side of the transposed shape whose transpose holds is a false verdict so diagnosed,
not a ShapeError. The claims' evaluators are in numbers.claims, the sampling loop in
numbers.trials, the reports (CheckReport, Verdict) in numbers.reports. The engine and
torch are imported only inside functions.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import LimitError, MatrixCalcError, ShapeError, UsageError
from ..guard import public
from ..language.declarations import parse_where
from ..language.expr import Expr, Number, Symbol
from ..language.parse import Statement, as_expr, parse_quietly, parse_statement, wrt_symbol
from ..language.shapes import Shape
from .claims import _build_claim, _declared_dims, _equality
from .diagnosis import _diagnose, _transposed
from .reports import CheckReport, Verdict
from .trials import _run_trials

TOLERANCE = 1e-6
DEFAULT_TRIALS = 5


# -- inputs ---------------------------------------------------------------------------------------

def _wrt_names(wrt) -> tuple[list[str], bool]:
    """The variables' names and whether `wrt` was a list."""
    items = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    if not items:
        raise UsageError("`wrt` is empty: name the variable to differentiate by")
    names = []
    for item in items:
        if isinstance(item, Symbol):
            names.append(item.name)
        elif isinstance(item, str) and item.strip():
            names.append(item.strip())
        else:
            raise UsageError(f"`wrt` takes symbol names, not {item!r}")
    return names, isinstance(wrt, (list, tuple))


def _result_where(e: Expr, wrts: list[Symbol], where) -> dict[str, str]:
    """Declarations for parsing a result text: `where`, plus the kinds `e` settled on."""
    words: dict[str, str] = {}
    declared = parse_where(where)
    for name, decl in declared.items():
        words[name] = decl.words()
    for symbol in [*e.symbols(), *wrts]:
        info = symbol.info
        named = declared[symbol.name].dims if symbol.name in declared else None
        kind = f"{info.kind}({', '.join(map(str, named))})" if named else info.kind
        words[symbol.name] = " ".join([kind, *sorted(info.assumptions)])
    return {k: v for k, v in words.items() if v}


def _derive(e: Expr, name: str, where, order: int):
    """The engine's derivative (loaded on first use); an order-3/4 result in index form
    is checked through its own evaluation (jacrev layout)."""
    from ..calculus.derive import derive, hessian
    result = derive(e, name, where=where) if order == 1 else hessian(e, name, where=where)
    if getattr(result, "kind", None) == "tensor":
        return result.evaluate
    return result


# -- check ------------------------------------------------------------------------------------

@public
def check(expr: Expr | str, wrt, result=None, where=None, trials: int = DEFAULT_TRIALS, *,
          order: int = 1, seed: int | None = None,
          tolerance: float = TOLERANCE) -> CheckReport:
    """Compare a derivative with torch.autograd on random inputs (SPEC section 5).

    expr: text or Expr. wrt: a name, a Symbol, or a list of them (then `result` is a
    list too, one derivative per variable). result: the claimed derivative as text (typed
    with expr's kinds), an Expr, the number 0, or, for any order, a callable taking the
    inputs (dict of numpy user forms) and returning the derivative in jacrev layout;
    None derives it with `matrixcalc.calculus.derive.derive`. A derivative of order 3 or
    4 given as an expression is the matrix ∂vec(F)/∂vec(X). order=2 checks the Hessian
    (the Jacobian of the gradient; torch.func.jacrev applied twice).
    """
    if order not in (1, 2):
        raise UsageError(f"`order` is 1 (derivative) or 2 (Hessian), not {order!r}")
    e = as_expr(expr, where)
    names, is_list = _wrt_names(wrt)
    symbols: list[Symbol] = []
    for name in names:  # an absent variable's dimensions are its own, the others' too
        taken = {a for s in symbols for a in s.info.rows + s.info.cols}
        symbols.append(wrt_symbol(e, name, where, taken))
    if result is None:
        results = [_derive(e, name, where, order) for name in names]
    elif is_list:
        if not isinstance(result, (list, tuple)) or len(result) != len(names):
            raise UsageError(f"with {len(names)} variables, `result` is a list of "
                             f"{len(names)} derivatives")
        results = list(result)
    else:
        results = [result]
    prepared = []
    result_where = None
    typed_apart: set[int] = set()  # results typed in a context of their own (text)
    for item in results:
        if isinstance(item, str):
            if result_where is None:
                result_where = _result_where(e, symbols, where)
            item = parse_quietly(item, result_where)  # the expression itself warned
            typed_apart.add(id(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool) and item == 0:
            item = Number(0, ty=Shape((), ()))
        elif getattr(item, "kind", None) == "tensor":  # index form: its own evaluation
            item = item.evaluate
        elif not (isinstance(item, Expr) or callable(item)):
            raise UsageError("`result` is an expression (text or Expr) or a callable, not "
                             f"{type(item).__name__}")
        prepared.append(item)
    claim = _build_claim(e, symbols, prepared, order, None, shared=False,
                         typed_apart=typed_apart)
    outcome = _run_trials(claim.problem, claim.evaluate, trials, seed, tolerance,
                          ("autograd", "result"))
    return CheckReport(outcome.ok, outcome.max_error, trials, outcome.sizes, outcome.seed,
                       outcome.counterexample, tuple(names), order)


# -- verify -------------------------------------------------------------------------------------

@public
def verify(statement: str | Statement, where=None, trials: int = DEFAULT_TRIALS, *,
           seed: int | None = None, tolerance: float = TOLERANCE) -> Verdict:
    """Judge "LHS = RHS" or "d/dX EXPR = RHS" under the declared assumptions; a false
    claim off by a transpose, a sign, a factor or a product's order says so."""
    stmt = _as_statement(statement, where)
    symbolic = _symbolic_verdict(stmt, where)
    rigid = _declared_dims(where)
    try:
        problem, evaluator, labels = _judge(stmt, rigid)
    except ShapeError as error:
        return _transposed_shape(stmt, rigid, error, trials, seed, tolerance)
    outcome = _run_trials(problem, evaluator(), trials, seed, tolerance, labels)
    diagnosis = None
    if not outcome.ok:
        diagnosis = _diagnose(problem, evaluator, stmt.rhs, trials, outcome.seed, tolerance)
    how = symbolic if symbolic and outcome.ok else "numeric"
    return Verdict(outcome.ok, how, outcome.counterexample, stmt.text, trials,
                   outcome.max_error, outcome.sizes, outcome.seed, _shapes(stmt), diagnosis)


def _as_statement(statement: str | Statement, where) -> Statement:
    if isinstance(statement, str):
        return parse_statement(statement, where)
    if isinstance(statement, Statement):
        return statement
    raise UsageError(f"verify takes a statement as text, not {type(statement).__name__}")


def _shapes(stmt: Statement) -> dict[str, str]:
    return {name: info.describe() for side in (stmt.lhs, stmt.rhs)
            for name, info in side.shapes.items()}


def _judge(stmt: Statement, rigid: frozenset[str]):
    """The statement's Problem, its evaluator (see _DerivativeClaim.evaluator) and the
    counterexample's labels; ShapeError when the two sides differ in shape."""
    if stmt.kind != "derivative":
        problem, evaluator = _equality(stmt, rigid)
        return problem, evaluator, ("LHS", "RHS")
    if stmt.wrt.name in ("I", "ones"):
        raise UsageError(f"cannot differentiate with respect to the constant "
                         f"`{stmt.wrt.name}`", stmt.text, stmt.wrt.span)
    claim = _build_claim(stmt.lhs, [stmt.wrt], [stmt.rhs], 1, stmt.text, shared=True,
                         rigid=rigid)
    return claim.problem, claim.evaluator, (f"d/d{stmt.wrt.name} LHS (autograd)", "RHS")


def _transposed_shape(stmt: Statement, rigid: frozenset[str], error: ShapeError,
                      trials: int, seed: int | None, tolerance: float) -> Verdict:
    """The verdict on a right side of the transposed shape whose transpose holds (the
    layout confusion: a row vector for a gradient); otherwise `error` is raised."""
    flipped = replace(stmt, rhs=_transposed(stmt.rhs))
    try:
        problem, evaluator, labels = _judge(flipped, rigid)
        outcome = _run_trials(problem, evaluator(), trials, seed, tolerance, labels)
    except LimitError:
        raise
    except MatrixCalcError:
        outcome = None
    if outcome is None or not outcome.ok:
        raise error
    diagnosis = (f"holds for the transpose of the right side, which has the transposed "
                 f"shape: {stmt.rhs.ty.describe()} where {flipped.rhs.ty.describe()} is "
                 f"expected")
    return Verdict(False, "numeric", None, stmt.text, trials, outcome.max_error,
                   outcome.sizes, outcome.seed, _shapes(stmt), diagnosis)


# -- symbolic truth ----------------------------------------------------------------------------

def _symbolic_verdict(stmt: Statement, where) -> str | None:
    """Hook for symbolic truth: "symbolic" when both sides have identical canonical forms;
    for a derivative claim, "two derivations" when the derivation by differentials
    (calculus.by_differentials), which shares nothing with the index form's but the
    simplifier, gives that form too. None otherwise.

    Whenever the engine fails, the numeric judgment alone decides; but a claim past a
    limit is refused (LimitError), as every other call refuses it. Even a symbolic match
    is confirmed numerically, so a simplifier bug cannot make a false claim true.
    """
    from ..calculus.derive import derive, simplify  # the engine loads SymPy: on first use
    try:
        left = stmt.lhs
        if stmt.kind == "derivative":
            left = derive(stmt.lhs, stmt.wrt.name, where=where)
        right = simplify(stmt.rhs, where=where)
        if simplify(left, where=where) != right:
            return None
    except LimitError:
        raise
    except MatrixCalcError:
        return None
    if stmt.kind == "derivative" and _by_differentials(stmt, where, right):
        return "two derivations"
    return "symbolic"


def _by_differentials(stmt: Statement, where, right: Expr) -> bool:
    """Whether the derivation by differentials gives the canonical form `right`."""
    from ..calculus.by_differentials import agrees, derive_by_differentials
    try:
        other = derive_by_differentials(stmt.lhs, stmt.wrt.name, where).result
    except MatrixCalcError:
        return False
    return other is not None and agrees(other, right)


__all__ = ["check", "verify"]
