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

A false claim is diagnosed where it is off in a standard way (`_diagnose`): each
alternative right side (its transpose, a constant multiple, a product's factors in the
other order) is judged by the same trials, on the same draws (same seed), never by a
lookup of known answers. A right side of the transposed shape whose transpose holds is a
false verdict so diagnosed, not a ShapeError. Dimensions declared by name (`A: matrix(m,
n)`) stay distinct: the two sides of a statement are never unified by equating them.

Errors are measured as max|L - R| / max(1, max|L|, max|R|): relative for values above
1, absolute below (so a derivative that is zero compares sensibly). Torch is imported
only inside functions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from .. import budget
from ..errors import LimitError, MatrixCalcError, ShapeError, UnsupportedError, UsageError
from ..guard import public
from ..language.declarations import parse_where
from ..language.expr import Apply, Expr, Number, Symbol, walk
from ..language.parse import Statement, as_expr, parse_quietly, parse_statement, wrt_symbol
from ..language.shapes import Shape
from .backends import backend
from .numeric import Layout, run, to_jacrev_layout, user_dims
from .sampling import MAX_REDRAWS, Draw, OutOfDomain, Problem, describe_sizes, domain_guard

TOLERANCE = 1e-6
DEFAULT_TRIALS = 5


# -- reports -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counterexample:
    """A point where a claim fails: the inputs (user forms), both values, how to replay."""

    inputs: dict[str, Any]
    left: Any
    right: Any
    sizes: dict[str, int]
    seed: int
    error: float
    left_label: str = "LHS"
    right_label: str = "RHS"

    def __str__(self) -> str:
        lines = [f"counterexample (sizes {describe_sizes(self.sizes)}; seed {self.seed}; "
                 f"error {self.error:.3g}):"]
        for name, value in self.inputs.items():
            lines.append(f"  {name} = {_show(value)}")
        lines.append(f"  {self.left_label}: {_show(self.left)}")
        lines.append(f"  {self.right_label}: {_show(self.right)}")
        worst = _worst_entry(self.left, self.right)
        if worst:
            lines.append(f"  {worst}")
        return "\n".join(lines)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of `check`: ok, the largest error seen, the per-trial sizes, the seed
    of the first trial (trial t used seed + t; replay one with `seed=..., trials=1`)."""

    ok: bool
    max_error: float
    trials: int
    sizes: list[dict[str, int]]
    seed: int
    counterexample: Counterexample | None = None
    wrt: tuple[str, ...] = ()
    order: int = 1

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return "```\n" + str(self) + "\n```"

    def __str__(self) -> str:
        head = "ok" if self.ok else "FAILED"
        text = (f"check {head}: max error {self.max_error:.3g} over {self.trials} trial"
                f"{'s' if self.trials != 1 else ''} (seed {self.seed})")
        return text + (f"\n{self.counterexample}" if self.counterexample else "")


@dataclass(frozen=True)
class Verdict:
    """The outcome of `verify`: holds, how ("numeric", "symbolic" or "two derivations"), a
    counterexample when it does not hold, and the evidence (trials, max error, sizes,
    seed).

    diagnosis: for a false claim that is off in a standard way, how, in a sentence ("holds
    for the transpose of the right side"); None otherwise. Where the right side has the
    transposed shape, there is no counterexample (no point compares the two sides) and
    the evidence is that of the transposed claim."""

    holds: bool
    how: str
    counterexample: Counterexample | None = None
    statement: str = ""
    trials: int = 0
    max_error: float = 0.0
    sizes: list[dict[str, int]] = field(default_factory=list)
    seed: int = 0
    shapes: dict[str, str] = field(default_factory=dict)
    diagnosis: str | None = None

    def __bool__(self) -> bool:
        return self.holds

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"`{self.statement}`: " + "```\n" + str(self) + "\n```"

    def __str__(self) -> str:
        return format_verdict(self)


def format_verdict(verdict: Verdict) -> str:
    """The CLI's words for a verdict."""
    kinds = "; ".join(verdict.shapes.values())
    used = f"\n  with {kinds}" if kinds else ""
    if verdict.holds:
        if verdict.how == "symbolic":
            return f"true (symbolic: identical canonical forms){used}"
        if verdict.how == "two derivations":
            return (f"true (two derivations: by index notation and by differentials, the "
                    f"same canonical form){used}")
        sizes = " | ".join(describe_sizes(s) for s in verdict.sizes)
        return (f"true (numeric: holds at {verdict.trials} random points, max error "
                f"{verdict.max_error:.2g}; sizes {sizes}){used}")
    head = f"false: {verdict.diagnosis}" if verdict.diagnosis else "false"
    example = f"\n{verdict.counterexample}" if verdict.counterexample else ""
    return f"{head}{used}{example}"


SHOWN_ENTRIES = 36  # a value with more entries is summarized, not printed


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    if array.size > SHOWN_ENTRIES:  # a 5^4 tensor: its shape and range, not 625 numbers
        return (f"an array of shape {array.shape}, entries from {array.min():.4g} to "
                f"{array.max():.4g}")
    text = np.array2string(array, precision=4, suppress_small=True, max_line_width=88)
    return text.replace("\n", "\n      ")


def _worst_entry(left: Any, right: Any) -> str:
    """Where two summarized arrays differ most, and their values there."""
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    if left.shape != right.shape or left.size <= SHOWN_ENTRIES:
        return ""
    at = np.unravel_index(int(np.argmax(np.abs(left - right))), left.shape)
    return (f"largest difference at {list(map(int, at))}: {left[at]:.6g} against "
            f"{right[at]:.6g}")


def relative_error(left: Any, right: Any) -> float:
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if left.shape != right.shape:
        return float("inf")
    if left.size == 0:
        return 0.0
    scale = max(1.0, float(np.max(np.abs(left))), float(np.max(np.abs(right))))
    return float(np.max(np.abs(left - right))) / scale


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


def _is_zero_literal(node: Expr) -> bool:
    while isinstance(node, Apply) and node.op == "neg":
        node = node.args[0]
    return isinstance(node, Number) and node.value == 0


def _derive(e: Expr, name: str, where, order: int):
    """The engine's derivative (loaded on first use); an order-3/4 result in index form
    is checked through its own evaluation (jacrev layout)."""
    from ..calculus.derive import derive, hessian
    result = derive(e, name, where=where) if order == 1 else hessian(e, name, where=where)
    if getattr(result, "kind", None) == "tensor":
        return result.evaluate
    return result


Evaluate = Callable[[Draw], list[tuple[Any, Any]]]  # a draw's (truth, claimed) pairs


# -- the derivative claim --------------------------------------------------------------------

@dataclass
class _Target:
    """One variable and what is claimed to be the derivative with respect to it."""

    symbol: Symbol
    layout: Layout
    result: Expr | Callable | None  # None: the literal zero
    ns: int
    guarded: bool = False  # an alternative right side: its shape is checked (_NotApplicable)


class _DerivativeClaim:
    """F and, per variable, a claimed derivative; all symbols unified in one Problem."""

    def __init__(self, problem: Problem, f: Expr, targets: list[_Target], order: int) -> None:
        self.problem, self.f, self.targets, self.order = problem, f, targets, order

    def evaluate(self, draw: Draw) -> list[tuple[Any, Any]]:
        """(autograd, claimed) per variable, in jacrev layout; OutOfDomain to redraw."""
        np_backend = backend("numpy")
        size0 = self._size_of(0, draw)
        f_value = run(self.f, draw.values, np_backend, size0, domain_guard)
        _finite(f_value)
        pairs = []
        for target in self.targets:
            dims = target.layout.user_dims(size0)
            claimed = self._claimed(target, draw, dims)
            _finite(claimed)
            truth = _autograd(self.f, draw.values, target.symbol, size0, self.order)
            _finite(truth)
            pairs.append((truth, claimed))
        return pairs

    def evaluator(self, result: Expr | None = None) -> Evaluate:
        """`evaluate` as claimed (None), or with another right side (a one-variable
        claim), which must have the derivative's shape at every draw (else _NotApplicable)."""
        if result is None:
            return self.evaluate
        target = replace(self.targets[0], result=result, guarded=True)
        return _DerivativeClaim(self.problem, self.f, [target], self.order).evaluate

    def _size_of(self, ns: int, draw: Draw):
        return lambda dim: self.problem.size(ns, dim, draw.sizes)

    def _claimed(self, target: _Target, draw: Draw, dims: tuple[int, ...]) -> Any:
        if target.result is None:
            return np.zeros(dims)
        if isinstance(target.result, Expr):
            value = run(target.result, draw.values, backend("numpy"),
                        self._size_of(target.ns, draw), domain_guard)
            if target.guarded:
                _same_shape(value, target.layout.matrix_shape(), self._size_of(0, draw))
            return to_jacrev_layout(value, dims)
        inputs = _user_inputs(self.problem, draw)
        try:
            value = np.asarray(target.result(inputs), dtype=np.float64)
        except MatrixCalcError:
            raise
        except Exception as error:  # a user's callable failed: say so plainly
            raise UsageError(f"the `result` callable raised {type(error).__name__}: "
                             f"{error}") from None
        if value.shape != dims:
            raise UsageError(f"the `result` callable returned shape {value.shape}; the "
                             f"derivative's jacrev layout is {dims}")
        return value


def _same_shape(value: Any, shape: Shape, size_of) -> None:
    """An alternative right side must keep the claim's 2-D shape: a reshape would hide a
    transpose of a non-square value (distinct dimensions have distinct sizes)."""
    if tuple(np.shape(value)) != (size_of(shape.rows), size_of(shape.cols)):
        raise _NotApplicable


def _finite(value: Any) -> None:
    if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
        raise OutOfDomain("a non-finite value")


def _user_inputs(problem: Problem, draw: Draw) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in problem.symbols.items():
        value = draw.values[name]
        if spec.kind == "scalar":
            out[name] = float(value[0, 0])
        elif spec.kind == "vector":
            out[name] = value.reshape(-1).copy()
        else:
            out[name] = value.copy()
    return out


def _autograd(f: Expr, values: dict[str, np.ndarray], wrt: Symbol, size_of,
              order: int) -> np.ndarray:
    """torch.func.jacrev (applied `order` times) of f through the torch tree evaluator."""
    from ..optional import require
    torch = require("torch", "the numeric checker (check, verify)")
    from torch.func import jacrev

    torch_backend = backend("torch")
    env = {name: torch.from_numpy(np.array(v)) for name, v in values.items()}
    internal = tuple(env[wrt.name].shape)
    out_dims = user_dims(f.ty, size_of)

    def function(w):
        inputs = dict(env)
        inputs[wrt.name] = w.reshape(internal)
        return run(f, inputs, torch_backend, size_of).reshape(out_dims)

    derivative = function
    for _ in range(order):
        derivative = jacrev(derivative)
    start = env[wrt.name].reshape(user_dims(wrt.info.shape, size_of))
    return derivative(start).detach().numpy()


def _build_claim(e: Expr, wrt_symbols: list[Symbol], results: list, order: int,
                 text: str | None, shared: bool,
                 typed_apart: set[int] = frozenset(),
                 rigid: frozenset[str] = frozenset()) -> _DerivativeClaim:
    """Unify F, the variables and the claimed derivatives in one Problem.

    `shared`: the results were typed in e's context already (a statement), namespace 0.
    `rigid`: dimension names (namespace 0) that must stay distinct.
    """
    problem = Problem(text)
    problem.add_root(0, e)
    targets = []
    for index, (symbol, result) in enumerate(zip(wrt_symbols, results)):
        problem.add_root(0, symbol)
        layout = Layout(e.ty, symbol.info.shape, order)
        ns = 0 if shared or (id(result) not in typed_apart and _in_context(result, e, symbol)) \
            else index + 1
        if isinstance(result, Expr):
            problem.add_root(ns, result)
            expected = layout.matrix_shape()
            if not _unify(problem, ns, result.ty, expected, rigid):
                if result.ty.is_scalar and _is_zero_literal(result):
                    result = None
                else:
                    raise _mismatch(problem, e, symbol, result, ns, expected, order, text)
        targets.append(_Target(symbol, layout, result, ns))
    return _DerivativeClaim(problem, e, targets, order)


def _unify(problem: Problem, ns: int, a: Shape, b: Shape, rigid: frozenset[str]) -> bool:
    """problem.unify_shapes(ns, a, 0, b), refused (nothing bound) where it would equate
    two of the `rigid` names: declared dimensions are distinct ones, as in `parse`."""
    if not rigid:
        return problem.unify_shapes(ns, a, 0, b)
    saved = copy.deepcopy(problem.sizes.unifier)
    if problem.unify_shapes(ns, a, 0, b) and _apart(problem, rigid):
        return True
    problem.sizes.unifier = saved
    return False


def _apart(problem: Problem, names: frozenset[str]) -> bool:
    sizes = problem.sizes
    return len({sizes.unifier.resolve(sizes.var(0, (name,))) for name in names}) == len(names)


def _declared_dims(where) -> frozenset[str]:
    return frozenset(dim for decl in parse_where(where).values() for dim in decl.dims or ()
                     if isinstance(dim, str))


def _in_context(result, e: Expr, wrt: Symbol) -> bool:
    """Whether an Expr result was typed in e's context (as the engine's results are):
    its symbols have e's kinds and dimensions, and it names no dimension e lacks. Such a
    result shares e's dimension names, also where nothing but an I or ones carries them."""
    if not isinstance(result, Expr):
        return False
    known = dict(e.shapes)
    if wrt.info is not None:
        known.setdefault(wrt.name, wrt.info)
    names = {a for info in known.values() for a in info.rows + info.cols
             if isinstance(a, str)}
    names |= {a for node in walk(e) if node.ty is not None
              for a in node.ty.rows + node.ty.cols if isinstance(a, str)}
    for name, info in result.shapes.items():
        if name not in known or (known[name].rows, known[name].cols) != (info.rows, info.cols):
            return False
    used = {a for node in walk(result) if node.ty is not None
            for a in node.ty.rows + node.ty.cols if isinstance(a, str)}
    return used <= names


def _mismatch(problem, e, symbol, result, ns, expected, order, text) -> ShapeError:
    what = "second derivative" if order == 2 else "derivative"
    span = result.span
    if text is not None and "=" in text:
        at = text.index("=")
        span = (at, at + 1)
    return ShapeError(f"the two sides differ in shape: the {what} of "
                      f"{problem.describe(0, e.ty)} by {problem.describe(0, symbol.ty)} is "
                      f"{problem.describe(0, expected)}, the claim is "
                      f"{problem.describe(ns, result.ty)}", text, span,
                      hint="a derivative of order 3 or 4 is written as the matrix "
                           "∂vec(F)/∂vec(X)" if not expected.kind == result.ty.kind else None)


# -- the sampling loop -------------------------------------------------------------------------

@dataclass
class _Outcome:
    ok: bool
    max_error: float
    sizes: list[dict[str, int]]
    seed: int
    counterexample: Counterexample | None


def _run_trials(problem: Problem, evaluate: Callable[[Draw], list[tuple[Any, Any]]],
                trials: int, seed: int | None, tolerance: float,
                labels: tuple[str, str]) -> _Outcome:
    _check_options(trials, seed, tolerance)
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    worst, sizes = 0.0, []
    for trial in range(trials):
        budget.tick()
        trial_seed = seed + trial
        rng, draw = problem.draw(trial_seed)
        why = ""
        for _ in range(MAX_REDRAWS):
            budget.tick()
            try:
                with np.errstate(all="ignore"):  # non-finite values are redrawn below
                    pairs = evaluate(draw)
                break
            except (OutOfDomain, np.linalg.LinAlgError, FloatingPointError) as reason:
                why = str(reason)
                draw = problem.redraw(rng, trial_seed)
        else:
            raise UnsupportedError(f"could not draw a point inside every operator's domain "
                                   f"in {MAX_REDRAWS} attempts (seed {trial_seed})"
                                   + (f"; the last gave {why}" if why else ""))
        sizes.append(draw.named_sizes)
        for index, (left, right) in enumerate(pairs):
            error = relative_error(left, right)
            worst = max(worst, error)
            if not error <= tolerance:
                left_label, right_label = labels
                if len(pairs) > 1:
                    left_label, right_label = (f"{left_label} [{index}]",
                                               f"{right_label} [{index}]")
                example = Counterexample(_user_inputs(problem, draw), _plain(left),
                                         _plain(right), draw.named_sizes, trial_seed, error,
                                         left_label, right_label)
                return _Outcome(False, worst, sizes, seed, example)
    return _Outcome(True, worst, sizes, seed, None)


def _check_options(trials, seed, tolerance) -> None:
    """The sampling options: a positive number of trials within the limit, a seed that
    numpy takes (None or a non-negative integer), a positive tolerance."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise UsageError(f"`trials` must be a positive integer, not {trials!r}")
    budget.check("trials", trials, "the number of trials")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**63):
        raise UsageError(f"`seed` is None or an integer from 0 to 2^63 - 1, not {seed!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) \
            or not tolerance > 0:
        raise UsageError(f"`tolerance` is a positive number, not {tolerance!r}")


def _plain(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


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


def _equality(stmt: Statement, rigid: frozenset[str] = frozenset()):
    problem = Problem(stmt.text)
    problem.add_root(0, stmt.lhs)
    problem.add_root(0, stmt.rhs)
    zero_side = None
    if not _unify(problem, 0, stmt.lhs.ty, stmt.rhs.ty, rigid):
        for side, node in (("lhs", stmt.lhs), ("rhs", stmt.rhs)):
            if node.ty.is_scalar and _is_zero_literal(node):
                zero_side = side
        if zero_side is None:
            at = stmt.text.index("=")
            raise ShapeError(f"the two sides differ in shape: the left is "
                             f"{problem.describe(0, stmt.lhs.ty)}, the right "
                             f"{problem.describe(0, stmt.rhs.ty)}", stmt.text, (at, at + 1))
    np_backend = backend("numpy")
    shape = stmt.lhs.ty if zero_side == "rhs" else stmt.rhs.ty  # the non-zero side

    def evaluator(rhs: Expr | None = None) -> Evaluate:
        """As claimed (None), or with another right side, which must keep the shape."""
        sides = (stmt.lhs, stmt.rhs if rhs is None else rhs)

        def evaluate(draw: Draw) -> list[tuple[Any, Any]]:
            size_of = lambda dim: problem.size(0, dim, draw.sizes)  # noqa: E731
            values = []
            for node in sides:
                value = run(node, draw.values, np_backend, size_of, domain_guard)
                _finite(value)
                values.append(value)
            if rhs is not None:
                _same_shape(values[1], shape, size_of)
            if zero_side is not None:
                other = values[1] if zero_side == "lhs" else values[0]
                values[0 if zero_side == "lhs" else 1] = np.zeros_like(other)
            dims = user_dims(shape, size_of)
            return [(values[0].reshape(dims), values[1].reshape(dims))]

        return evaluate

    return problem, evaluator


# -- diagnosis: how a false claim is off -------------------------------------------------------

class _NotApplicable(Exception):
    """An alternative right side that the shapes do not allow (at some draw)."""


def _diagnose(problem: Problem, evaluator: Callable[..., Evaluate], rhs: Expr, trials: int,
              seed: int, tolerance: float) -> str | None:
    """The first standard alternative right side that holds on the claim's own draws (the
    same seed), as a sentence; None when none does."""
    if _is_zero_literal(rhs):
        return None  # every alternative to zero is zero

    def holds(evaluate: Evaluate) -> bool:
        return _holds(problem, evaluate, trials, seed, tolerance)

    if holds(evaluator(_transposed(rhs))):
        return "holds for the transpose of the right side"
    factor = _factor(problem, evaluator(), trials, seed, tolerance)
    if factor == "-1":
        return "holds for the negated right side"
    if factor is not None:
        return f"holds for {factor} times the right side"
    other = _reversed_product(rhs)
    if other is not None and holds(evaluator(other)):
        return f"holds with the product's factors in the other order: {other}"
    return None


def _holds(problem: Problem, evaluate: Evaluate, trials: int, seed: int,
           tolerance: float) -> bool:
    try:
        return _run_trials(problem, evaluate, trials, seed, tolerance, ("", "")).ok
    except (_NotApplicable, MatrixCalcError, ValueError):
        return False  # ValueError: numpy refuses a product whose inner sizes differ


def _transposed(e: Expr) -> Expr:
    return Apply("transpose", (e,), ty=e.ty.transposed())


def _factor(problem: Problem, evaluate: Evaluate, trials: int, seed: int,
            tolerance: float) -> str | None:
    """The constant c (as text) such that c times the right side holds at every draw: per
    draw the least-squares ratio, the same at every draw; None if there is none, or the
    draws are too few to tell (one scalar value; a zero right side says nothing of c)."""
    ratios: list[float] = []
    entries = 0

    def scaled(draw: Draw) -> list[tuple[Any, Any]]:
        nonlocal entries
        pairs = []
        for truth, claimed in evaluate(draw):
            ratio = _ratio(truth, claimed)
            if ratio is not None:
                ratios.append(ratio)
                entries += np.size(claimed)
                claimed = ratio * claimed
            pairs.append((truth, claimed))
        return pairs

    if not _holds(problem, scaled, trials, seed, tolerance) or entries < 2:
        return None
    c = ratios[0]
    scale = max(1.0, abs(c))
    if any(abs(r - c) > tolerance * scale for r in ratios) or abs(c) <= tolerance \
            or abs(c - 1) <= tolerance * scale:
        return None  # not constant; zero (an unrelated claim); or one (a near miss)
    return _simple_number(c, tolerance)


def _ratio(truth: Any, claimed: Any) -> float | None:
    """The least-squares c in truth ≈ c claimed; None where claimed is zero."""
    truth, claimed = (np.ravel(np.asarray(v, dtype=np.float64)) for v in (truth, claimed))
    norm = float(claimed @ claimed)
    return float(truth @ claimed) / norm if norm > 0 else None


def _simple_number(c: float, tolerance: float) -> str:
    """c as a simple fraction (2, 1/2, -3/2) when it is one to tolerance, else 4 digits."""
    fraction = Fraction(c).limit_denominator(12)
    if abs(fraction - Fraction(c)) <= tolerance * max(1.0, abs(c)):
        return str(fraction)
    return f"{c:.4g}"


PRODUCTS = ("matmul", "kron")


def _reversed_product(rhs: Expr) -> Expr | None:
    """The right side with its chain of matrix (or Kronecker) factors in the other order,
    its scalar coefficients kept in front; None unless it is such a chain of two or more
    factors that reads differently backwards."""
    coefficients: list[Expr | None] = []  # None: a negation
    top = _peel(rhs, coefficients)
    if not (isinstance(top, Apply) and top.op in PRODUCTS):
        return None
    factors: list[Expr] = []
    _flatten(top, top.op, coefficients, factors)
    if factors == factors[::-1]:
        return None
    first, *rest = factors[::-1]
    for coefficient in reversed(coefficients):
        first = Apply("neg", (first,)) if coefficient is None \
            else Apply("mul", (coefficient, first))
    product = first
    for factor in rest:
        product = Apply(top.op, (product, factor))
    return product


def _flatten(node: Expr, op: str, coefficients: list, factors: list[Expr]) -> None:
    node = _peel(node, coefficients)
    if isinstance(node, Apply) and node.op == op:
        for arg in node.args:
            _flatten(arg, op, coefficients, factors)
    else:
        factors.append(node)


def _peel(node: Expr, coefficients: list) -> Expr:
    """node without its negations and scalar coefficients, which go to `coefficients`
    (they commute with every factor of a product)."""
    while isinstance(node, Apply):
        if node.op == "neg":
            coefficients.append(None)
            node = node.args[0]
        elif node.op == "mul" and [a.ty.is_scalar for a in node.args].count(True) == 1:
            scalar, node = sorted(node.args, key=lambda a: not a.ty.is_scalar)
            coefficients.append(scalar)
        else:
            break
    return node


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


__all__ = ["CheckReport", "Counterexample", "Verdict", "check", "format_verdict",
           "relative_error", "verify"]
