"""The operator record (`OpSpec`) and the one registry every stage reads.

An operator is one record: its name, how it is written (text and LaTeX, precedence,
function-call spellings), its shape rule, its index form (or, for an opaque operator, its
derivative rule and the rule as a reader sees it), how it acts on SymPy scalars and
matrix expressions, its evaluation on a numeric backend, its generated code for each
backend, the domain its arguments are sampled from, algebraic flags, the source of its
rule and an example that the table test derives. Syntax-only operators (`product`,
`bars`, ...) carry an `elaborate` hook instead: shape inference replaces them by resolved
operators once the kinds of their operands are known.

Every stage reaches a record's callbacks with a context object of its own, so that the
operator families import no stage: `shape(ctx, node, types)`, `lower(L, node, idx)`,
`derivative(d, node, idx)`, `differential.apply(D, node, dargs)` (the matrix-level rule
of the derivation by differentials), `evaluate(B, node, *values)`, `scalar(S, node, *args)`,
`sympy_matrix(S, node, args, rows, cols)`, code templates `(g, node, operands)`, printers
`(p, node)`.

Invariants: every name in `REGISTRY` is unique (`register` refuses a clash unless told to
replace); registration is serialized by a lock, and `version()` changes with every
registration, so caches of what the table implies (SymPy functions, call names) are keyed
by it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from ..language.expr import Apply, Expr
    from ..language.shapes import Shape

# Binding strength of printed forms, loosest first.
SUM, PRODUCT, PREFIX, POSTFIX, ATOM = 1, 2, 3, 4, 5

# Domains an argument is sampled from by the numeric checker (in this order in messages);
# the first three are those of an entry, which an elementwise function may name. The
# matrix functions add: "positive_spectrum" (eigenvalues off the closed negative real
# axis: sqrtm, logm), "simple_max" / "simple_min" (a symmetric matrix whose largest /
# smallest eigenvalue is simple: eigmax, eigmin), "simple_sv" (the largest singular value
# simple: ||X||_2), "definite_rank" (pinv: each singular value zero to rounding or well
# away from zero, so that the rank is what it seems) and "full_column_rank" (||X||_*).
DOMAINS = frozenset({"real", "positive", "nonzero", "invertible", "spd", "vector",
                     "positive_spectrum", "simple_max", "simple_min", "simple_sv",
                     "definite_rank", "full_column_rank"})
ENTRY_DOMAINS = ("real", "positive", "nonzero")
# Backends of generated code (SPEC section 5).
BACKENDS = ("numpy", "torch", "jax")
MAGNUS = "Magnus & Neudecker, Matrix Differential Calculus (3rd ed., 2019), ch. 8"

# Flags: "scalar_context" marks operators that need a scalar somewhere (a divisor, an
# exponent, a factor, a bracket entry); only their failures can make an undeclared
# symbol a scalar (SPEC section 2, rule 3). "linear" and "bilinear" operators vanish when an
# argument is zero, "linear-in-first" ones when the first is; "vanishes_at_zero" marks
# other operators that are zero at zero (norms); "elementwise" ones act entry by entry;
# "expands": a composite linear factor that lowering may distribute (index.lower.expand);
# "number_code": its generated code on Python numbers is a Python number.

PrintFn = Callable[[Any, "Apply"], str]
ShapeFn = Callable[[Any, "Apply", list["Shape"]], "Shape"]
EvalFn = Callable[..., Any]
ElaborateFn = Callable[[Any, "Apply", list["Shape"]], "Expr | None"]
LowerFn = Callable[[Any, "Apply", tuple], list]
RuleFn = Callable[[Any, "Apply", tuple], list]
# (D, node, dargs) -> Expr: the differential of `node` from its arguments' differentials
# (`dargs`, None for an argument that does not depend on the variable; D is the engine's
# context, calculus.differential.Differentials).
DifferentialFn = Callable[[Any, "Apply", tuple], "Expr | None"]
# A code template: a format string ("{xp}.exp({0})": `xp` the backend's module, {k} the
# k-th argument), or a function (generator, node, operands) -> code; one for every backend
# or a mapping backend -> template.
Template = Union[str, Callable[..., str]]
Code = Union[Template, Mapping[str, Template]]


@dataclass(frozen=True)
class Differential:
    """An operator's differential at the matrix level: the function that applies it, the
    rule's name (`title`) and the rule as a reader writes it (`rule`: "d(U V) = dU V +
    U dV"), and its source; an empty title, rule or source is the record's own (an opaque
    operator's `title` and `rule` already state its differential). A derivation by
    differentials prints each step with its rule's name and statement. A record with no
    matrix-level rule says why (`unavailable`): `apply` None, `reason` the sentence."""

    apply: DifferentialFn | None
    title: str = ""
    rule: str = ""
    source: str = ""
    reason: str = ""


def unavailable(reason: str) -> Differential:
    """No rule at the matrix level, and why (a derivation by differentials through the
    operator stops with this reason; the index form's derivative is unaffected)."""
    return Differential(None, reason=reason)


def linear(rule: str, title: str = "linearity") -> Differential:
    """d f(U, …) = f(dU, …) for an operator linear in all its arguments (0 for one that
    does not depend on the variable: a sum drops it, a literal writes 0)."""
    return Differential(lambda D, node, dargs: D.linear(node, dargs), title, rule, MAGNUS)


def bilinear(rule: str, title: str = "product rule") -> Differential:
    """d f(U, V) = f(dU, V) + f(U, dV) for a bilinear operator (Leibniz)."""
    return Differential(lambda D, node, dargs: D.leibniz(node, dargs), title, rule, MAGNUS)


def constant(rule: str) -> Differential:
    """An operator whose value depends on no variable (π, a commutation matrix): d = 0."""
    return Differential(lambda D, node, dargs: None, "constant", rule)


@dataclass(frozen=True)
class OpSpec:
    name: str
    arity: int | None  # None: any number of arguments (sums, bracket literals)
    prec: int = ATOM
    text: PrintFn | None = None
    latex: PrintFn | None = None
    shape: ShapeFn | None = None
    evaluate: EvalFn | None = None
    call_names: tuple[str, ...] = ()
    elaborate: ElaborateFn | None = None
    domains: tuple[str, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    source: str = ""
    syntax_only: bool = False  # replaced during inference; never printed or evaluated
    # -- the calculus: an index form, or (opaque) a derivative rule ---------------------
    lower: LowerFn | None = None
    derivative: RuleFn | None = None
    title: str = ""  # the rule's name in an explanation: "inverse"
    rule: str = ""  # the rule as a reader writes it: "d(M^-1) = -M^-1 dM M^-1"
    # the rule of the derivation by differentials, at the matrix level (calculus.differential)
    differential: Differential | None = None
    # -- scalars and SymPy ----------------------------------------------------------------
    scalar: Callable[..., Any] | None = None  # on SymPy scalars (S, node, *args)
    sympy_matrix: Callable[..., Any] | None = None  # to SymPy's matrix expressions
    # an elementwise function's SymPy function: a SymPy name ("cosh"), or made from
    # `fprime` (its derivative, an expression in x) and `definition` (in x)
    sympy: str = ""
    fprime: str = ""
    definition: str = ""
    # -- generated code and the table test ---------------------------------------------------
    code: Code | None = None
    # -- linear maps and identities of the operator's own ----------------------------------
    # `adjoint(build, node, position, G)`: for an operator linear in its argument
    # `position` (a Fréchet derivative, a Sylvester solve), the tree of its adjoint map
    # applied to G, <G, op(…E…)> = <adjoint(G), E> (recovery's `index.linear_maps`)
    adjoint: Callable[..., Any] | None = None
    # `kron(build, node)`: the matrix K with vec(op(…E…)) = K vec(E), where the map has one
    # (a Sylvester solve: (I ⊗ A + B^T ⊗ I)^-1), for ∂vec(F)/∂vec(X) (vec=True)
    kron: Callable[..., Any] | None = None
    # `transpose(build, node)`: op(…)^T written through the arguments (expm(X)^T =
    # expm(X^T)), so that the simplifier can push transposes onto symbols
    transpose: Callable[..., Any] | None = None
    # node rules (expr -> expr | None) the simplifier applies to this operator's nodes
    rules: tuple[Callable[..., Any], ...] = ()
    example: str = ""  # an expression using the operator, derived by the table test
    example_where: str | None = None

    def domain_of(self, position: int) -> str:
        if not self.domains:
            return "real"
        return self.domains[min(position, len(self.domains) - 1)]

    @property
    def opaque(self) -> bool:
        """Kept whole as a factor of the index form; differentiated by its rule."""
        return self.lower is None

    def template(self, backend: str) -> Template | None:
        if isinstance(self.code, Mapping):
            return self.code.get(backend)
        return self.code


REGISTRY: dict[str, OpSpec] = {}
FUNCTIONS: dict[str, OpSpec] = {}  # function-call spelling -> operator
_lock = threading.RLock()
_version = [0]


def register(spec: OpSpec, *, replace: bool = False) -> OpSpec:
    with _lock:
        if spec.name in REGISTRY and not replace:
            raise ValueError(f"operator {spec.name!r} is already registered")
        REGISTRY[spec.name] = spec
        for call_name in spec.call_names:
            FUNCTIONS[call_name] = spec
        _version[0] += 1
    return spec


def unregister(name: str) -> None:
    """Remove a record (a user function whose table was refused)."""
    with _lock:
        spec = REGISTRY.pop(name, None)
        if spec is not None:
            for call_name in spec.call_names:
                if FUNCTIONS.get(call_name) is spec:
                    del FUNCTIONS[call_name]
        _version[0] += 1


def registry_lock() -> threading.RLock:
    return _lock


def version() -> int:
    """Changes with every registration: what a cache of the table is keyed by."""
    return _version[0]


def lookup(name: str) -> OpSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        from ..errors import UnsupportedError
        raise UnsupportedError(f"no operator named `{name}` in the operator table") from None


def registered(name: str) -> bool:
    """Whether the table holds `name` now: a record of a family imported later (sqrtm,
    the matrix norms) may not be registered yet, or at all."""
    return name in REGISTRY


# -- printing helpers shared by the operator families ------------------------------------

def call_text(name: str) -> PrintFn:
    return lambda p, node: f"{name}({', '.join(p.arg(a, 0) for a in node.args)})"


def call_latex(command: str) -> PrintFn:
    return lambda p, node: (
        f"{command}\\left({', '.join(p.arg(a, 0) for a in node.args)}\\right)")


# Products of different kinds are parenthesized where they meet, so that `(A ⊙ B) C` and
# `(A ⊗ B) C` never read as A ⊙ (B C); scaling, division and matrix products mix freely.
ENTRYWISE_PRODUCTS = frozenset({"hadamard", "ediv", "kron"})


def _mixes(parent: str, child) -> bool:
    op = getattr(child, "op", None)
    if op is None or op == parent:
        return False
    return op in ENTRYWISE_PRODUCTS and parent in ENTRYWISE_PRODUCTS | {"mul", "matmul"} or (
        parent in ENTRYWISE_PRODUCTS and op == "matmul")


def infix_text(token: str) -> PrintFn:
    """Left-associative binary form; the right operand is parenthesized unless atomic."""
    def text(p, node):
        left = node.args[0]
        shown = p.arg(left, PRODUCT + 1 if _mixes(node.op, left) else PRODUCT)
        return f"{shown}{token}{p.right(node.args[1])}"
    return text


def postfix_text(suffix: str) -> PrintFn:
    return lambda p, node: f"{p.base(node.args[0])}{suffix}"


# -- code-template helpers shared by the operator families ------------------------------------

def helper(name: str, source: str) -> Callable[..., str]:
    """A template that calls a function defined once in the generated module (`source`
    defines `name`; helper names start with `_mc_`, which no parameter may)."""
    return lambda g, node, a: g.helper(name, source, a[0])


def needs(import_line: str, template: Template) -> Callable[..., str]:
    """A template whose code needs a module imported at the top of the generated code."""
    return lambda g, node, a: g.require(import_line, g.render(template, node, a))


# -- snapshots: a refused table leaves the table as it was ----------------------------------

def snapshot() -> tuple[dict, dict]:
    with _lock:
        return dict(REGISTRY), dict(FUNCTIONS)


def restore(saved: tuple[dict, dict]) -> None:
    with _lock:
        for live, old in zip((REGISTRY, FUNCTIONS), saved):
            live.clear()
            live.update(old)
        _version[0] += 1
