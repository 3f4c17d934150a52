"""The operator record (`OpSpec`) and the one registry every stage reads.

An operator is one record: its name, how it is written (text and LaTeX, precedence,
function-call spellings), its shape rule, its evaluation on a numeric backend, the
domain its arguments are sampled from, algebraic flags and the source of its rule.
Syntax-only operators (`product`, `bars`, ...) carry an `elaborate` hook instead: shape
inference replaces them by resolved operators once the kinds of their operands are known.
Invariant: every name in `REGISTRY` is unique; `register` refuses a clash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..expr import Apply, Expr
    from ..shapes import Shape

# Binding strength of printed forms, loosest first.
SUM, PRODUCT, PREFIX, POSTFIX, ATOM = 1, 2, 3, 4, 5

# Domains an argument is sampled from by the numeric checker.
DOMAINS = frozenset({"real", "positive", "nonzero", "invertible", "spd", "vector"})

# Flags: "scalar_context" marks operators that need a scalar somewhere (a divisor, an
# exponent, a factor, a bracket entry); only their failures can make an undeclared
# symbol a scalar (SPEC section 2, rule 3). "linear" and "bilinear" operators vanish when an
# argument is zero, "linear-in-first" ones when the first is; "vanishes_at_zero" marks
# other operators that are zero at zero (norms); "elementwise" ones act entry by entry.

# Printer callbacks: (printer, node) -> text. The printer offers `.arg(node, prec)`.
PrintFn = Callable[[Any, "Apply"], str]
ShapeFn = Callable[[Any, "Apply", list["Shape"]], "Shape"]
EvalFn = Callable[..., Any]
ElaborateFn = Callable[[Any, "Apply", list["Shape"]], "Expr | None"]


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

    def domain_of(self, position: int) -> str:
        if not self.domains:
            return "real"
        return self.domains[min(position, len(self.domains) - 1)]


REGISTRY: dict[str, OpSpec] = {}
FUNCTIONS: dict[str, OpSpec] = {}  # function-call spelling -> operator


def register(spec: OpSpec, *, replace: bool = False) -> OpSpec:
    if spec.name in REGISTRY and not replace:
        raise ValueError(f"operator {spec.name!r} is already registered")
    REGISTRY[spec.name] = spec
    for call_name in spec.call_names:
        FUNCTIONS[call_name] = spec
    return spec


def lookup(name: str) -> OpSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        from ..errors import UnsupportedError
        raise UnsupportedError(f"no operator named `{name}` in the operator table") from None


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
