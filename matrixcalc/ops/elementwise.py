"""Elementwise functions, the elementwise power, and the vector functions softmax and
logsumexp.

An elementwise function is one call to `elementwise`: its SymPy function (SymPy's own,
by name, or made from its derivative `fprime` or its `definition`, expressions in x),
from which its derivative is derived (`Differentiator.elementwise`); how it evaluates and
what code it generates (`array`: the same function name in numpy, torch and jax.numpy;
or `evaluate` and `code` given; or, where not given, both taken from its `definition` by
the evaluator and the code generator); its sampling domain
and source. A user table's function (SPEC section 6) goes through the same factory.
"""

from __future__ import annotations

from collections.abc import Callable

from ..language.expr import Apply
from ..language.shapes import SCALAR
from .linalg import (
    exponent_latex,
    exponent_text,
    power_code,
    power_derivative,
    power_differential,
    power_value,
)
from .spec import (
    ATOM,
    POSTFIX,
    Code,
    Differential,
    OpSpec,
    call_latex,
    call_text,
    helper,
    needs,
    register,
)


def elementwise(name: str, *, source: str, sympy: str = "", fprime: str = "",
                definition: str = "", array: str = "", evaluate: Callable | None = None,
                code: Code | None = None, domain: str = "real", latex=None,
                flags: frozenset[str] = frozenset(), elaborate=None,
                replace: bool = False) -> OpSpec:
    """Register `name(x)`, applied entry by entry, shaped like its argument."""
    if evaluate is None and array:
        evaluate = lambda B, x: getattr(B.xp, array)(x)  # noqa: E731
    if code is None:
        code = (f"{{xp}}.{array}({{0}})" if array
                else (lambda g, node, a: g.definition(node, a[0])))
    if not callable(latex):
        latex = call_latex(latex or rf"\operatorname{{{name}}}")
    return register(OpSpec(
        name, 1, ATOM, text=call_text(name), latex=latex,
        shape=lambda ctx, node, types: types[0],
        evaluate=(lambda B, node, x: evaluate(B, x)) if evaluate else None,
        call_names=(name,),
        derivative=lambda d, node, idx: d.elementwise(node, idx),
        title=name, rule=f"d {name}(M) = {name}'(M) ⊙ dM",
        differential=Differential(lambda D, node, dargs: D.elementwise(node, dargs[0])),
        scalar=lambda S, node, x: S.function(name)(x),
        sympy_matrix=lambda S, node, a: S.elementwise(node, a),
        sympy=sympy, fprime=fprime, definition=definition, code=code,
        domains=(domain,), flags=frozenset({"elementwise"}) | flags, source=source,
        elaborate=elaborate, example=f"{name}(x)"), replace=replace)


def _log_of_determinant(ctx, node, types):
    """log(det(X)) and log(|X|) mean logdet(X), log|det X| (SPEC section 2)."""
    (arg,) = node.args
    if isinstance(arg, Apply) and arg.op == "det" and not arg.args[0].ty.is_scalar:
        return Apply("logdet", arg.args, span=node.span)
    return None


SIGMOID = "def _mc_sigmoid(x):\n    return 0.5 * (1.0 + np.tanh(0.5 * x))\n"

elementwise("exp", sympy="exp", array="exp", latex=r"\exp", source="exp' = exp")
elementwise("log", sympy="log", array="log", latex=r"\log", domain="positive",
            source="log' = 1/x", elaborate=_log_of_determinant)
elementwise("sin", sympy="sin", array="sin", latex=r"\sin", source="sin' = cos")
elementwise("cos", sympy="cos", array="cos", latex=r"\cos", source="cos' = -sin")
elementwise("tanh", sympy="tanh", array="tanh", latex=r"\tanh", source="tanh' = 1 - tanh^2")
elementwise("sqrt", sympy="sqrt", array="sqrt", domain="positive",
            latex=lambda p, node: f"\\sqrt{{{p.arg(node.args[0], 0)}}}",
            source="sqrt' = 1 / (2 sqrt)")
elementwise("abs", sympy="Abs", array="abs", domain="nonzero", source="abs' = sign, x != 0")
elementwise("sign", sympy="sign", fprime="0", array="sign", domain="nonzero",
            source="sign' = 0 away from 0")
elementwise("sigmoid", fprime="sigmoid(x) (1 - sigmoid(x))", latex=r"\sigma",
            evaluate=lambda B, x: B.sigmoid(x), source="sigmoid' = s (1 - s)",
            code={"numpy": helper("_mc_sigmoid", SIGMOID), "torch": "torch.sigmoid({0})",
                  "jax": "jax.nn.sigmoid({0})"})
elementwise("softplus", fprime="sigmoid(x)", evaluate=lambda B, x: B.softplus(x),
            source="softplus' = sigmoid",
            code={"numpy": "np.logaddexp(0.0, {0})", "jax": "jax.nn.softplus({0})",
                  "torch": "torch.nn.functional.softplus({0}, threshold=1e300)"})
elementwise("relu", fprime="step(x)", evaluate=lambda B, x: B.relu(x), domain="nonzero",
            source="relu' = step", code={"numpy": "np.maximum({0}, 0.0)",
                                         "torch": "torch.relu({0})", "jax": "jax.nn.relu({0})"})
elementwise("step", fprime="0", evaluate=lambda B, x: B.step(x), domain="nonzero",
            source="step' = 0 away from 0",
            code={"numpy": "np.heaviside({0}, 0.0)", "torch": "({0} > 0).double()",
                  "jax": "jnp.heaviside({0}, 0.0)"})
# More activations and special functions: one line each, the derivative derived.
elementwise("cosh", sympy="cosh", array="cosh", latex=r"\cosh", source="cosh' = sinh")
elementwise("sinh", sympy="sinh", array="sinh", latex=r"\sinh", source="sinh' = cosh")
elementwise("arctan", sympy="atan", array="arctan", latex=r"\arctan",
            source="arctan' = 1 / (1 + x^2)")
elementwise("log1p", sympy="codegen.cfunctions.log1p", array="log1p", domain="positive",
            source="log1p(x) = log(1 + x), log1p' = 1 / (1 + x)")
elementwise("expm1", sympy="codegen.cfunctions.expm1", array="expm1",
            source="expm1(x) = exp(x) - 1, expm1' = exp")
elementwise("erf", sympy="erf", evaluate=lambda B, x: B.erf(x), latex=r"\operatorname{erf}",
            source="erf(x) = 2/sqrt(pi) ∫_0^x exp(-t^2) dt, erf' = 2 exp(-x^2)/sqrt(pi)",
            code={"numpy": needs("import scipy.special", "scipy.special.erf({0})"),
                  "torch": "torch.special.erf({0})",
                  "jax": needs("import jax.scipy.special", "jax.scipy.special.erf({0})")})
elementwise("softsign", definition="x/(1 + abs(x))", fprime="(1 + abs(x))^-2",
            source="softsign(x) = x / (1 + |x|)", code={
                "numpy": lambda g, node, a: g.definition(node, a[0]),
                "torch": "torch.nn.functional.softsign({0})", "jax": "jax.nn.soft_sign({0})"})
elementwise("elu", fprime="exp(-relu(-x))", evaluate=lambda B, x: B.elu(x), domain="nonzero",
            source="elu(x) = x for x > 0, exp(x) - 1 otherwise (Clevert et al., 2016)",
            code={"numpy": "np.where({0} > 0, {0}, np.expm1({0}))",
                  "torch": "torch.nn.functional.elu({0})", "jax": "jax.nn.elu({0})"})
elementwise("gelu", definition="x/2 (1 + erf(x/sqrt(2)))",
            source="gelu(x) = x Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel, 2016)",
            code={"numpy": lambda g, node, a: g.definition(node, a[0]),
                  "torch": "torch.nn.functional.gelu({0})",
                  "jax": "jax.nn.gelu({0}, approximate=False)"})


# -- the elementwise power ---------------------------------------------------------------------

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
    derivative=power_derivative, title="elementwise power", rule="d(M.^p) = p M.^(p-1) ⊙ dM",
    differential=Differential(power_differential),
    scalar=lambda S, node, x, k: power_value(x, k), sympy_matrix=lambda S, node, a: S.epow(node, a),
    code=power_code,
    domains=("positive", "real"), flags=frozenset({"elementwise", "scalar_context"}),
    source="elementwise power: d(x^k) = k x^(k-1)", example="x.^3"))


# -- vector functions ----------------------------------------------------------------------

def _vector_function_shape(result_is_scalar: bool):
    def shape(ctx, node, types):
        if types[0].kind != "vector":
            ctx.fail(f"{node.op} takes a vector, not {ctx.describe(types[0])}", node)
        return SCALAR if result_is_scalar else types[0]
    return shape


def _softmax_derivative(d, node, idx):
    """d softmax(z)_i = s_i dz_i - s_i s_k dz_k (the Jacobian diag(s) - s s^T)."""
    (z,) = node.args
    i, k = idx[0], d.fresh()
    own = d.entrywise_times([node], z, idx)
    cross = d.times(d.term(d.factor(node, (i, None)), d.factor(node, (k, None)), coeff=-1),
                    d.expr(z, (k, None)))
    return own + cross


def _softmax_differential(D, node, dargs):
    """d softmax(z) = (diag(s) - s s^T) dz, s = softmax(z)."""
    jacobian = D.total([D.build.apply("diag_matrix", node),
                        D.build.negate(D.chain(node, D.build.apply("transpose", node)))])
    return D.chain(jacobian, dargs[0])


SOFTMAX = ("def _mc_softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / np.sum(e)\n")
LOGSUMEXP = ("def _mc_logsumexp(z):\n    top = np.max(z)\n"
             "    return top + np.log(np.sum(np.exp(z - top)))\n")

register(OpSpec(
    "softmax", 1, ATOM, text=call_text("softmax"), latex=call_latex(r"\operatorname{softmax}"),
    shape=_vector_function_shape(False), evaluate=lambda B, node, x: B.softmax(x),
    call_names=("softmax",), derivative=_softmax_derivative, title="softmax",
    differential=Differential(_softmax_differential),
    rule="d softmax(z) = (diag(s) - s s^T) dz, s = softmax(z)",
    code={"numpy": helper("_mc_softmax", SOFTMAX), "torch": "torch.softmax({0}, dim=0)",
          "jax": "jax.nn.softmax({0}, axis=0)"},
    source="softmax(z)_i = exp(z_i) / sum_j exp(z_j)", example="softmax(A x)"))


def _logsumexp_derivative(d, node, idx):
    """d logsumexp(z) = softmax(z)^T dz."""
    (z,) = node.args
    k = d.fresh()
    return d.times(d.term(d.factor(d.build.apply("softmax", z), (k, None))), d.expr(z, (k, None)))


register(OpSpec(
    "logsumexp", 1, ATOM, text=call_text("logsumexp"),
    latex=call_latex(r"\operatorname{logsumexp}"),
    shape=_vector_function_shape(True), evaluate=lambda B, node, x: B.logsumexp(x),
    call_names=("logsumexp",), derivative=_logsumexp_derivative, title="log-sum-exp",
    differential=Differential(lambda D, node, dargs: D.inner(
        D.build.apply("softmax", node.args[0]), dargs[0])),
    rule="d logsumexp(z) = softmax(z)^T dz",
    code={"numpy": helper("_mc_logsumexp", LOGSUMEXP), "torch": "torch.logsumexp({0}, dim=0)",
          "jax": needs("import jax.scipy.special", "jax.scipy.special.logsumexp({0})")},
    source="logsumexp(z) = log sum_j exp(z_j)", example="logsumexp(A x)"))
