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
from ..language.shapes import ONE, SCALAR, Shape
from .powers import (
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


# -- vector functions, row by row on a matrix ----------------------------------------------
# softmax and logsumexp act on a vector, and on each row of a matrix (SPEC section 1, as in
# attention): softmax(Z) is shaped like Z, logsumexp(Z) is the column of the rows' values.
# In index form a matrix's row index is a batch index: every factor of a rule takes it
# through one copy tensor, so the rules below are the vector rules with the row copied.

def _vector_function_shape(result_is_scalar: bool):
    def shape(ctx, node, types):
        arg = types[0]
        if arg.kind not in ("vector", "matrix"):
            ctx.fail(f"{node.op} takes a vector, or a matrix row by row, not "
                     f"{ctx.describe(arg)}", node)
        if not result_is_scalar:
            return arg
        return SCALAR if arg.kind == "vector" else Shape(arg.rows, ONE)
    return shape


def _batched(d, z, idx, parts: int):
    """([the copy tensor joining a matrix's row idx[0] to `parts` fresh row indices], the
    fresh row indices); for a vector no copy, and None for each row."""
    if z.ty.kind != "matrix":
        return [], [None] * parts
    rows = [d.fresh() for _ in range(parts)]
    return [d.copy(z.ty.rows, idx[0], *rows)], rows


def _at(row, entry):
    """A factor's (row, column) indices: (row, entry) in a matrix, (entry,) in a vector."""
    return (row, entry) if row is not None else (entry, None)


def _softmax_derivative(d, node, idx):
    """d softmax(z)_i = s_i dz_i - s_i s_k dz_k (the Jacobian diag(s) - s s^T); of a
    matrix, the same along each row r: dS_rj = S_rj dZ_rj - S_rj S_rk dZ_rk."""
    (z,) = node.args
    entry = idx[1] if z.ty.kind == "matrix" else idx[0]
    k = d.fresh()
    copies, (r1, r2, r3) = _batched(d, z, idx, 3)
    own = d.entrywise_times([node], z, idx)
    cross = d.times(d.term(*copies, d.factor(node, _at(r1, entry)),
                           d.factor(node, _at(r2, k)), coeff=-1),
                    d.expr(z, _at(r3, k)))
    return own + cross


def _evaluate_softmax(B, node, x):
    """softmax of a column; of a matrix, of each row (the columns of its transpose)."""
    if node.args[0].ty.kind != "matrix":
        return B.softmax(x)
    return B.transpose(B.softmax(B.transpose(x)))


def _evaluate_logsumexp(B, node, x):
    """logsumexp of a column (1×1); of a matrix, the column of its rows' values."""
    if node.args[0].ty.kind != "matrix":
        return B.logsumexp(x)
    rows = x.shape[0]
    return B.grid([B.logsumexp(x[r:r + 1, :]) for r in range(rows)], rows, 1)


def _softmax_differential(D, node, dargs):
    """d softmax(z) = (diag(s) - s s^T) dz, s = softmax(z); of a matrix, row by row:
    d softmax(Z) = S ⊙ (dZ - (S ⊙ dZ) ones ones^T), S = softmax(Z)."""
    if node.args[0].ty.kind == "matrix":
        ones = D.build.ones(node.ty.cols)
        weighted = D.build.apply("hadamard", node, dargs[0])
        spread = D.chain(weighted, ones, D.build.apply("transpose", ones))
        return D.build.apply("hadamard", node, D.total([dargs[0], D.build.negate(spread)]))
    jacobian = D.total([D.build.apply("diag_matrix", node),
                        D.build.negate(D.chain(node, D.build.apply("transpose", node)))])
    return D.chain(jacobian, dargs[0])


def _logsumexp_differential(D, node, dargs):
    """d logsumexp(z) = softmax(z)^T dz; of a matrix, (softmax(Z) ⊙ dZ) ones."""
    (z,) = node.args
    if z.ty.kind == "matrix":
        weighted = D.build.apply("hadamard", D.build.apply("softmax", z), dargs[0])
        return D.chain(weighted, D.build.ones(z.ty.cols))
    return D.inner(D.build.apply("softmax", z), dargs[0])


# Generated code: a vector is 1-D and a matrix 2-D there, so the last axis is the vector
# or each row.
SOFTMAX = ("def _mc_softmax(z):\n    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
           "    return e / np.sum(e, axis=-1, keepdims=True)\n")
LOGSUMEXP = ("def _mc_logsumexp(z):\n    top = np.max(z, axis=-1, keepdims=True)\n"
             "    return top[..., 0] + np.log(np.sum(np.exp(z - top), axis=-1))\n")

register(OpSpec(
    "softmax", 1, ATOM, text=call_text("softmax"), latex=call_latex(r"\operatorname{softmax}"),
    shape=_vector_function_shape(False),
    evaluate=_evaluate_softmax,
    call_names=("softmax",), derivative=_softmax_derivative, title="softmax",
    differential=Differential(_softmax_differential),
    rule="d softmax(z) = (diag(s) - s s^T) dz, s = softmax(z); of a matrix, row by row",
    code={"numpy": helper("_mc_softmax", SOFTMAX), "torch": "torch.softmax({0}, dim=-1)",
          "jax": "jax.nn.softmax({0}, axis=-1)"},
    source="softmax(z)_i = exp(z_i) / sum_j exp(z_j); of a matrix, each row (Vaswani et al., "
           "Attention Is All You Need, 2017)", example="softmax(A x)"))


def _logsumexp_derivative(d, node, idx):
    """d logsumexp(z) = softmax(z)^T dz; of a matrix, row by row:
    d logsumexp(Z)_r = S_rk dZ_rk."""
    (z,) = node.args
    k = d.fresh()
    copies, (r1, r2) = _batched(d, z, idx, 2)
    return d.times(d.term(*copies, d.factor(d.build.apply("softmax", z), _at(r1, k))),
                   d.expr(z, _at(r2, k)))


register(OpSpec(
    "logsumexp", 1, ATOM, text=call_text("logsumexp"),
    latex=call_latex(r"\operatorname{logsumexp}"),
    shape=_vector_function_shape(True),
    evaluate=_evaluate_logsumexp,
    call_names=("logsumexp",), derivative=_logsumexp_derivative, title="log-sum-exp",
    differential=Differential(_logsumexp_differential),
    rule="d logsumexp(z) = softmax(z)^T dz; of a matrix, row by row",
    code={"numpy": helper("_mc_logsumexp", LOGSUMEXP), "torch": "torch.logsumexp({0}, dim=-1)",
          "jax": needs("import jax.scipy.special",
                       "jax.scipy.special.logsumexp({0}, axis=-1)")},
    source="logsumexp(z) = log sum_j exp(z_j); of a matrix, each row",
    example="logsumexp(A x)"))
