"""Vector and Frobenius norms: the syntax `||x||_p` and `norm(x, p)`, resolved by the
operand's kind and the order, and the records norm2, normF and norm1 (the spectral and
nuclear norms are matrix_functions' records). One block each: shape, printing, derivative
rule (with its source), SymPy, evaluation and generated code.
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import UnsupportedError
from ..language.expr import Apply, Number
from ..language.shapes import SCALAR
from .arithmetic import COOKBOOK
from .spec import ATOM, Differential, OpSpec, register, registered


# Norms of a matrix other than the Frobenius norm, by order: records of the matrix
# functions' module (looked up when a norm is resolved).
MATRIX_NORMS = {"2": "normspec", "*": "normnuc"}
MATRIX_NORM_HINT = "write ||X||_F (Frobenius), ||X||_2 (spectral) or ||X||_* (nuclear)"


def _resolve_norm(ctx, node, ty, p: str):
    """The norm an order means for the operand's kind; "" is no order written: the
    Euclidean norm of a vector, and for a matrix a choice left to the user (numpy's
    norm(X) is Frobenius, a textbook's ||A|| often spectral)."""
    if p == "F":
        return "normF"
    if ty.kind == "matrix":
        if p in MATRIX_NORMS and registered(MATRIX_NORMS[p]):
            return MATRIX_NORMS[p]
        raise UnsupportedError(f"the induced {p}-norm of a matrix is not supported" if p else
                               "the norm of a matrix needs its order: there are several",
                               span=node.span, hint=MATRIX_NORM_HINT)
    if p == "*":
        raise UnsupportedError("the nuclear norm ||X||_* takes a matrix", span=node.span,
                               hint="write ||x|| for the Euclidean norm of a vector")
    return "norm1" if p == "1" else "norm2"


def _normbars_elaborate(ctx, node, types):
    (p,) = node.attrs
    return Apply(_resolve_norm(ctx, node, types[0], p), node.args, span=node.span)


register(OpSpec(
    "normbars", 1, ATOM, elaborate=_normbars_elaborate, syntax_only=True,
    source="||x|| and ||x||_2 Euclidean, ||x||_1, ||X||_F Frobenius, ||X||_2 spectral, "
           "||X||_* nuclear"))

NORM_ORDERS = {Fraction(1): "1", Fraction(2): "2"}
NORM_STRINGS = {"fro": "F", "F": "F", "1": "1", "2": "2", "nuc": "*"}


def _norm_call_elaborate(ctx, node, types):
    args, strings = node.args, node.attrs
    if len(args) == 2 and not strings and isinstance(args[1], Number) \
            and args[1].value in NORM_ORDERS:
        p = NORM_ORDERS[args[1].value]
    elif len(args) == 1 and len(strings) == 1 and strings[0] in NORM_STRINGS:
        p = NORM_STRINGS[strings[0]]
    elif len(args) == 1 and not strings:
        p = ""
    else:
        raise UnsupportedError("norm takes norm(x), norm(x, 1), norm(x, 2), "
                               "norm(X, \"fro\") or norm(X, \"nuc\")", span=node.span)
    return Apply(_resolve_norm(ctx, node, types[0], p), args[:1], span=node.span)


register(OpSpec(
    "norm", None, ATOM, call_names=("norm",), elaborate=_norm_call_elaborate,
    syntax_only=True, flags=frozenset({"string_args"}),
    source="norm(x), norm(x, 1), norm(X, \"fro\"), norm(X, 2), norm(X, \"nuc\")"))


def norm_text(suffix: str):
    """`||x||_1`; an argument containing bars is parenthesized (`||(a ||x||)||`), since
    `||a ||x||||` would not read back."""
    def text(p, node):
        inner = p.arg(node.args[0], 0)
        return f"||({inner})||{suffix}" if "|" in inner else f"||{inner}||{suffix}"
    return text


def _norm_latex(suffix: str):
    return lambda p, node: f"\\left\\|{p.arg(node.args[0], 0)}\\right\\|_{suffix}"


def _vector_norm_shape(ctx, node, types):
    if types[0].kind == "matrix":
        ctx.fail(f"this norm takes a vector, not {ctx.describe(types[0])}", node)
    return SCALAR


def _refuse_norm_of_zero(ctx, node, v):
    """||0|| has no derivative (0/0): either engine's context says whether v vanishes."""
    if ctx.vanishes(v):
        raise UnsupportedError(f"`{node}` is the norm of something identically zero: it "
                               "has no derivative there (0/0), so the derivative is not "
                               "defined")


def _euclidean_derivative(d, node, idx):
    """d||v|| = v^T dv / ||v|| (Matrix Cookbook (129)); the same for ||X||_F (130)."""
    (v,) = node.args
    _refuse_norm_of_zero(d, node, v)
    inner = d.inner(v)
    scale = d.factor(d.build.reciprocal(node), (None, None))
    return d.times(d.term(scale, d.factor(v, inner)), d.expr(v, inner))


def _euclidean_differential(D, node, dargs):
    """d||v|| = v^T dv / ||v||; d||X||_F = tr(X^T dX) / ||X||_F."""
    (v,) = node.args
    _refuse_norm_of_zero(D, node, v)
    return D.build.apply("div", D.inner(v, dargs[0]), node)


def _one_norm_derivative(d, node, idx):
    """d||v||_1 = sign(v)^T dv, away from zero entries."""
    (v,) = node.args
    inner = d.inner(v)
    return d.times(d.term(d.factor(d.build.apply("sign", v), inner)), d.expr(v, inner))


def _euclidean(name, suffix, shape, source, example, rule):
    register(OpSpec(
        name, 1, ATOM, text=norm_text(suffix and f"_{suffix}"), latex=_norm_latex(suffix or "2"),
        shape=shape, evaluate=lambda B, node, x: B.xp.sqrt((x * x).sum()).reshape(1, 1),
        derivative=_euclidean_derivative, rule=rule,
        differential=Differential(_euclidean_differential),
        title="Frobenius norm" if suffix else "Euclidean norm",
        sympy_matrix=lambda S, node, a: S.norm2(node, a),
        code={"numpy": "np.linalg.norm({0})", "torch": "torch.linalg.vector_norm({0})",
              "jax": "jnp.linalg.norm({0})"},
        flags=frozenset({"vanishes_at_zero"}), source=source, example=example))


_euclidean("norm2", "", _vector_norm_shape, f"{COOKBOOK}, section 2.6 (129)",
           "||A x - b||", "d||v|| = v^T dv / ||v||")
_euclidean("normF", "F", lambda ctx, node, types: SCALAR, f"{COOKBOOK}, section 2.7 (130)",
           "||A X - B||_F", "d||X||_F = tr(X^T dX) / ||X||_F")

register(OpSpec(
    "norm1", 1, ATOM, text=norm_text("_1"), latex=_norm_latex("1"), shape=_vector_norm_shape,
    evaluate=lambda B, node, x: B.xp.abs(x).sum().reshape(1, 1),
    derivative=_one_norm_derivative, title="1-norm", rule="d||v||_1 = sign(v)^T dv",
    differential=Differential(
        lambda D, node, dargs: D.inner(D.build.apply("sign", node.args[0]), dargs[0])),
    code={"numpy": "np.sum(np.abs({0}))", "torch": "torch.linalg.vector_norm({0}, 1)",
          "jax": "jnp.sum(jnp.abs({0}))"},
    flags=frozenset({"vanishes_at_zero"}), source=f"{COOKBOOK}, section 2.6",
    example="||A x||_1"))
