"""Linear-algebra operators: inverse, powers, determinants and norms. One block each.

The syntax forms `^k`, `^-T`, `|X|`, `||x||_p` and `norm(x, p)` mean different things
for scalars and matrices; they are syntax-only records whose `elaborate` hook picks the
resolved operator once the operand's kind is known.
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import UnsupportedError
from ..expr import Apply, Expr, Number, Symbol, number
from ..shapes import SCALAR
from .linear import COOKBOOK, _square
from .spec import ATOM, POSTFIX, OpSpec, call_latex, call_text, lookup, register


def integer_literal(node: Expr) -> int | None:
    """The value of `3` or `-2` written as a literal; None for anything else."""
    sign = 1
    if isinstance(node, Apply) and node.op == "neg" and len(node.args) == 1:
        sign, node = -1, node.args[0]
    if isinstance(node, Number) and node.value.denominator == 1:
        return sign * int(node.value)
    return None


def exponent_text(p, exponent: Expr) -> str:
    """A number or a negated number is written bare (`^2`, `^-1`), anything else braced."""
    bare = isinstance(exponent, Number) or (
        isinstance(exponent, Apply) and exponent.op == "neg"
        and isinstance(exponent.args[0], Number))
    text = p.arg(exponent, 0)
    if text in ("T", "-T"):  # `x^{T}` would read as a transpose
        text = f"({text})"
    return text if bare else "{" + text + "}"


def exponent_latex(p, exponent: Expr) -> str:
    return "{" + p.arg(exponent, 0) + "}"


# -- powers and inverses -------------------------------------------------------------------

def _caret_elaborate(ctx, node, types):
    base, exponent = node.args
    if not types[1].is_scalar:
        ctx.fail(f"an exponent is a scalar, not {ctx.describe(types[1])}", node)
    if types[0].is_scalar:
        return Apply("power", node.args, span=node.span)
    if types[0].kind != "matrix":
        ctx.fail(f"cannot raise {ctx.describe(types[0])} to a power", node,
                 hint="use .^ for an elementwise power, or declare it a scalar")
    k = integer_literal(exponent)
    if k is None:
        ctx.fail("a matrix power needs an integer literal exponent (X^3, X^-1)", node,
                 hint=_fractional_power_hint(base, exponent))
    if k == -1:
        return Apply("inv", (base,), span=node.span)
    return Apply("matpow", (base,), (k,), span=node.span)


def _fractional_power_hint(base: Expr, exponent: Expr) -> str:
    """`sqrtm(A)` for A^0.5 where the operator table has sqrtm (looked up now: it may be
    registered later), and the elementwise power in every case."""
    name = base.name if isinstance(base, Symbol) else "(…)"
    value = _literal_value(exponent)
    shown = "p" if value is None else format(float(value), "g")
    elementwise = f"`{name}.^{shown}` for the elementwise power"
    roots = {Fraction(1, 2): f"sqrtm({name})", Fraction(-1, 2): f"inv(sqrtm({name}))"}
    if value not in roots or not _registered("sqrtm"):
        return f"write {elementwise}"
    return f"for the matrix square root write `{roots[value]}`; {elementwise}"


def _literal_value(node: Expr) -> Fraction | None:
    """The value of a literal exponent: `0.5`, `-0.5`, `{1/2}`; None for anything else."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Apply) and node.op == "neg":
        inner = _literal_value(node.args[0])
        return None if inner is None else -inner
    if isinstance(node, Apply) and node.op == "div":
        top, bottom = (_literal_value(a) for a in node.args)
        return None if top is None or not bottom else top / bottom
    return None


def _registered(name: str) -> bool:
    try:
        lookup(name)
    except UnsupportedError:
        return False
    return True


register(OpSpec(
    "caret", 2, POSTFIX, elaborate=_caret_elaborate, syntax_only=True,
    flags=frozenset({"scalar_context"}),
    source="^k: a power of a scalar, an integer power of a square matrix"))


def _inverse_transpose_elaborate(ctx, node, types):
    (base,) = node.args
    if types[0].is_scalar:
        return Apply("power", (base, number(-1)), span=node.span)
    return Apply("inv", (Apply("transpose", (base,), span=node.span),), span=node.span)


register(OpSpec(
    "inverse_transpose", 1, POSTFIX, elaborate=_inverse_transpose_elaborate,
    syntax_only=True, source="X^-T = (X^T)^-1 = (X^-1)^T"))


def _inv_elaborate(ctx, node, types):
    if types[0].is_scalar:
        return Apply("power", (node.args[0], number(-1)), span=node.span)
    return None


def _inv_shape(ctx, node, types):
    _square(ctx, node, types[0], "inv")
    return types[0]


def _inv_text(p, node):
    (arg,) = node.args
    if isinstance(arg, Apply) and arg.op == "transpose":
        return f"{p.base(arg.args[0])}^-T"
    return f"{p.base(arg)}^-1"


def _inv_latex(p, node):
    (arg,) = node.args
    if isinstance(arg, Apply) and arg.op == "transpose":
        return f"{p.base(arg.args[0])}^{{-\\top}}"
    return f"{p.base(arg)}^{{-1}}"


register(OpSpec(
    "inv", 1, POSTFIX, text=_inv_text, latex=_inv_latex, shape=_inv_shape,
    evaluate=lambda B, node, x: B.xp.linalg.inv(x), call_names=("inv",),
    elaborate=_inv_elaborate, domains=("invertible",), source=f"{COOKBOOK}, section 3"))


def _matpow_shape(ctx, node, types):
    _square(ctx, node, types[0], "a matrix power")
    return types[0]


register(OpSpec(
    "matpow", 1, POSTFIX,
    text=lambda p, node: f"{p.base(node.args[0])}^{node.attrs[0]}",
    latex=lambda p, node: f"{p.base(node.args[0])}^{{{node.attrs[0]}}}",
    shape=_matpow_shape,
    evaluate=lambda B, node, x: B.xp.linalg.matrix_power(x, node.attrs[0]),
    domains=("invertible",), source=f"{COOKBOOK}, section 2.5 (101) for tr(X^k)"))


def _power_shape(ctx, node, types):
    for ty in types:
        if not ty.is_scalar:
            ctx.fail(f"power takes scalars, not {ctx.describe(ty)}", node)
    return SCALAR


register(OpSpec(
    "power", 2, POSTFIX,
    text=lambda p, node: f"{p.base(node.args[0])}^{exponent_text(p, node.args[1])}",
    latex=lambda p, node: f"{p.base(node.args[0])}^{exponent_latex(p, node.args[1])}",
    shape=_power_shape, evaluate=lambda B, node, x, k: x ** k,
    domains=("positive", "real"), flags=frozenset({"scalar_context"}), source="definition"))


# -- determinants --------------------------------------------------------------------------

def _det_shape(ctx, node, types):
    if not types[0].is_scalar:
        _square(ctx, node, types[0], node.op)
    return SCALAR


register(OpSpec(
    "det", 1, ATOM, text=call_text("det"), latex=call_latex(r"\det"), shape=_det_shape,
    evaluate=lambda B, node, x: B.xp.linalg.det(x).reshape(1, 1), call_names=("det",),
    domains=("invertible",), flags=frozenset({"vanishes_at_zero"}),
    source=f"{COOKBOOK}, section 2.1"))

register(OpSpec(
    "logdet", 1, ATOM, text=call_text("logdet"),
    latex=lambda p, node: f"\\log\\left|{p.arg(node.args[0], 0)}\\right|",
    shape=_det_shape, evaluate=lambda B, node, x: B.xp.linalg.slogdet(x)[1].reshape(1, 1),
    call_names=("logdet",), domains=("invertible",),
    source=f"{COOKBOOK}, section 2.1.1 (57): log|det X|"))


def _bars_elaborate(ctx, node, types):
    kind = types[0].kind
    if kind == "matrix":
        return Apply("det", node.args, span=node.span)
    if kind == "scalar":
        return Apply("abs", node.args, span=node.span)
    ctx.fail(f"|…| is the determinant of a matrix or the absolute value of a scalar, "
             f"not defined for {ctx.describe(types[0])}", node,
             hint="write abs(x) for elementwise absolute values or ||x|| for the norm")


register(OpSpec(
    "bars", 1, ATOM, elaborate=_bars_elaborate, syntax_only=True,
    source="|X| is det(X) for a matrix, the absolute value for a scalar"))


# -- norms ---------------------------------------------------------------------------------

def _resolve_norm(ctx, node, ty, p: str):
    if p == "F":
        return "normF"
    if ty.kind == "matrix":
        raise UnsupportedError(
            f"the induced {p}-norm of a matrix is not supported", span=node.span,
            hint="write ||X||_F for the Frobenius norm")
    return "norm2" if p == "2" else "norm1"


def _normbars_elaborate(ctx, node, types):
    (p,) = node.attrs
    return Apply(_resolve_norm(ctx, node, types[0], p), node.args, span=node.span)


register(OpSpec(
    "normbars", 1, ATOM, elaborate=_normbars_elaborate, syntax_only=True,
    source="||x|| and ||x||_2 Euclidean, ||x||_1, ||X||_F Frobenius"))

NORM_ORDERS = {Fraction(1): "1", Fraction(2): "2"}
NORM_STRINGS = {"fro": "F", "F": "F", "1": "1", "2": "2"}


def _norm_call_elaborate(ctx, node, types):
    args, strings = node.args, node.attrs
    if len(args) == 2 and not strings and isinstance(args[1], Number) \
            and args[1].value in NORM_ORDERS:
        p = NORM_ORDERS[args[1].value]
    elif len(args) == 1 and len(strings) == 1 and strings[0] in NORM_STRINGS:
        p = NORM_STRINGS[strings[0]]
    elif len(args) == 1 and not strings:
        p = "2"
    else:
        raise UnsupportedError("norm takes norm(x), norm(x, 1), norm(x, 2) or "
                               "norm(X, \"fro\")", span=node.span)
    return Apply(_resolve_norm(ctx, node, types[0], p), args[:1], span=node.span)


register(OpSpec(
    "norm", None, ATOM, call_names=("norm",), elaborate=_norm_call_elaborate,
    syntax_only=True, flags=frozenset({"string_args"}),
    source="norm(x), norm(x, 1), norm(X, \"fro\")"))


def norm_text(suffix: str):
    """`||x||_1`; an argument containing bars is parenthesized (`||(a ||x||)||`), since
    `||a ||x||||` would not read back."""
    def text(p, node):
        inner = p.arg(node.args[0], 0)
        return f"||({inner})||{suffix}" if "|" in inner else f"||{inner}||{suffix}"
    return text


def _vector_norm_shape(ctx, node, types):
    if types[0].kind == "matrix":
        ctx.fail(f"this norm takes a vector, not {ctx.describe(types[0])}", node)
    return SCALAR


register(OpSpec(
    "norm2", 1, ATOM, text=norm_text(""),
    latex=lambda p, node: f"\\left\\|{p.arg(node.args[0], 0)}\\right\\|_2",
    shape=_vector_norm_shape,
    evaluate=lambda B, node, x: B.xp.sqrt((x * x).sum()).reshape(1, 1),
    flags=frozenset({"vanishes_at_zero"}), source=f"{COOKBOOK}, section 2.6 (129)"))

register(OpSpec(
    "norm1", 1, ATOM, text=norm_text("_1"),
    latex=lambda p, node: f"\\left\\|{p.arg(node.args[0], 0)}\\right\\|_1",
    shape=_vector_norm_shape,
    evaluate=lambda B, node, x: B.xp.abs(x).sum().reshape(1, 1),
    flags=frozenset({"vanishes_at_zero"}), source=f"{COOKBOOK}, section 2.6"))

register(OpSpec(
    "normF", 1, ATOM, text=norm_text("_F"),
    latex=lambda p, node: f"\\left\\|{p.arg(node.args[0], 0)}\\right\\|_F",
    shape=lambda ctx, node, types: SCALAR,
    evaluate=lambda B, node, x: B.xp.sqrt((x * x).sum()).reshape(1, 1),
    flags=frozenset({"vanishes_at_zero"}), source=f"{COOKBOOK}, section 2.7 (130)"))
