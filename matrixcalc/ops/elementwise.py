"""Elementwise functions, the elementwise power, and the vector functions softmax and
logsumexp. An elementwise function is one call to `elementwise`; a user table's
function (SPEC section 6) goes through the same factory."""

from __future__ import annotations

from collections.abc import Callable

from ..expr import Apply
from ..shapes import SCALAR
from .linalg import exponent_latex, exponent_text
from .spec import ATOM, POSTFIX, OpSpec, call_latex, call_text, register

LATEX_NAMES = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos",
               "tanh": r"\tanh", "sigmoid": r"\sigma", "sqrt": r"\sqrt"}


def elementwise(name: str, evaluate: Callable, *, domain: str = "real", source: str,
                flags: frozenset[str] = frozenset(), elaborate=None) -> OpSpec:
    """Register `name(x)`, applied entry by entry, shaped like its argument."""
    latex = call_latex(LATEX_NAMES.get(name, rf"\operatorname{{{name}}}"))
    if name == "sqrt":
        latex = lambda p, node: f"\\sqrt{{{p.arg(node.args[0], 0)}}}"  # noqa: E731
    return register(OpSpec(
        name, 1, ATOM, text=call_text(name), latex=latex,
        shape=lambda ctx, node, types: types[0],
        evaluate=lambda B, node, x: evaluate(B, x), call_names=(name,),
        domains=(domain,), flags=frozenset({"elementwise"}) | flags, source=source,
        elaborate=elaborate))


elementwise("exp", lambda B, x: B.xp.exp(x), source="exp' = exp")
def _log_of_determinant(ctx, node, types):
    """log(det(X)) and log(|X|) mean logdet(X), log|det X| (SPEC section 2)."""
    (arg,) = node.args
    if isinstance(arg, Apply) and arg.op == "det" and not arg.args[0].ty.is_scalar:
        return Apply("logdet", arg.args, span=node.span)
    return None


elementwise("log", lambda B, x: B.xp.log(x), domain="positive", source="log' = 1/x",
            elaborate=_log_of_determinant)
elementwise("sin", lambda B, x: B.xp.sin(x), source="sin' = cos")
elementwise("cos", lambda B, x: B.xp.cos(x), source="cos' = -sin")
elementwise("tanh", lambda B, x: B.xp.tanh(x), source="tanh' = 1 - tanh^2")
elementwise("sigmoid", lambda B, x: B.sigmoid(x), source="sigmoid' = s (1 - s)")
elementwise("softplus", lambda B, x: B.softplus(x), source="softplus' = sigmoid")
elementwise("sqrt", lambda B, x: B.xp.sqrt(x), domain="positive",
            source="sqrt' = 1 / (2 sqrt)")
elementwise("abs", lambda B, x: B.xp.abs(x), domain="nonzero", source="abs' = sign, x != 0")
elementwise("sign", lambda B, x: B.xp.sign(x), domain="nonzero",
            source="sign' = 0 away from 0")
elementwise("relu", lambda B, x: B.relu(x), domain="nonzero", source="relu' = step")
elementwise("step", lambda B, x: B.step(x), domain="nonzero",
            source="step' = 0 away from 0")


def _epow_shape(ctx, node, types):
    if not types[1].is_scalar:
        ctx.fail(f"an exponent is a scalar, not {ctx.describe(types[1])}", node)
    return types[0]


register(OpSpec(
    "epow", 2, POSTFIX,
    text=lambda p, node: f"{p.base(node.args[0])}.^{exponent_text(p, node.args[1])}",
    latex=lambda p, node: (f"{p.base(node.args[0])}^{{\\circ "
                           f"{exponent_latex(p, node.args[1])[1:-1]}}}"),
    shape=_epow_shape, evaluate=lambda B, node, x, k: x ** k,
    domains=("positive", "real"), flags=frozenset({"elementwise", "scalar_context"}),
    source="elementwise power: d(x^k) = k x^(k-1)"))


def _vector_function_shape(result_is_scalar: bool):
    def shape(ctx, node, types):
        if types[0].kind != "vector":
            ctx.fail(f"{node.op} takes a vector, not {ctx.describe(types[0])}", node)
        return SCALAR if result_is_scalar else types[0]
    return shape


register(OpSpec(
    "softmax", 1, ATOM, text=call_text("softmax"), latex=call_latex(r"\operatorname{softmax}"),
    shape=_vector_function_shape(False), evaluate=lambda B, node, x: B.softmax(x),
    call_names=("softmax",), source="softmax(z)_i = exp(z_i) / sum_j exp(z_j)"))

register(OpSpec(
    "logsumexp", 1, ATOM, text=call_text("logsumexp"),
    latex=call_latex(r"\operatorname{logsumexp}"),
    shape=_vector_function_shape(True), evaluate=lambda B, node, x: B.logsumexp(x),
    call_names=("logsumexp",), source="logsumexp(z) = log sum_j exp(z_j)"))
