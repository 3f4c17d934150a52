"""Matrix functions and decompositions: expm, logm, sqrtm, pinv, chol, the extreme
eigenvalues of a symmetric matrix and their eigenvectors, the spectral and nuclear norms.
One block each: shape, printing, derivative rule (with its source), evaluation, generated
code, sampling domain and example.

The rules that need a linear map of the differential write it with the maps of
`linear_maps` (d expm(M) = dexpm(M, dM), d sqrtm(M) = sylvester(S, S, dM), the Φ of
Cholesky's rule), so that a gradient is read back through the map's adjoint:
∇ aᵀ expm(X) b = dexpm(Xᵀ, a bᵀ) and ∇ tr(expm(X)) = expm(Xᵀ).

Conventions where the SPEC leaves a choice: eigmax, eigmin, their eigenvectors and chol
read the symmetric part (S + Sᵀ)/2 of their argument, as torch.linalg's eigh and
cholesky differentiate (a symmetric gradient); an eigenvector's sign makes its largest
entry positive; sqrtm and logm are the principal branches, for any matrix whose
eigenvalues are off the closed negative real axis (S1 S2 for spd S1, S2 too).
"""

from __future__ import annotations

from fractions import Fraction

from ..language.shapes import ONE, SCALAR, Shape, dim_size
from .linear_maps import HIGHAM, NO_DIFFERENTIAL, SCIPY, helper_template, square_shape
from .norms import norm_text
from .spec import ATOM, OpSpec, call_latex, call_text, needs, register
from .structure import square

MAGNUS = ("Magnus & Neudecker, Matrix Differential Calculus with Applications in Statistics "
          "and Econometrics (3rd ed., Wiley 2019)")
HALF = Fraction(1, 2)


def _transposed_argument(build, node):
    """f(X)^T = f(X^T) for a primary matrix function (a power series in X)."""
    return build.apply(node.op, build.apply("transpose", node.args[0]))


def _through_map(linear_of):
    """d f(M) = L(dM): the linear map `linear_of(build, node, slot)` applied to dM."""
    def rule(d, node, idx):
        (m,) = node.args
        linear = linear_of(d.build, node, d.build.slot(m.ty))
        return d.through(linear, idx, lambda k: d.expr(m, k))
    return rule


def _frechet(map_name: str):
    """The Fréchet derivative `map_name`(M, □) of a primary matrix function."""
    return _through_map(lambda build, node, slot: build.apply(map_name, node.args[0], slot))


# -- expm, logm, sqrtm ------------------------------------------------------------------------------

PRIMARY = '''def _mc_primary(x, f):
    lam, v = {m}.linalg.eig(x)
    return {m}.real(v @ {diag}(f(lam)) @ {m}.linalg.inv(v))
'''
PRIMARY_SOURCES = {"torch": PRIMARY.format(m="torch", diag="torch.diag_embed"),
                   "jax": PRIMARY.format(m="jnp", diag="jnp.diag")}


def _primary_code(function: str) -> dict:
    """numpy: scipy's (real) routine; torch and JAX: V f(Λ) V^-1 by the eigendecomposition."""
    def other(g, node, a):
        return helper_template("_mc_primary", PRIMARY_SOURCES, f"{g.xp}.{function[:-1]}")(
            g, node, a)
    return {"numpy": needs("import scipy.linalg", f"np.real(scipy.linalg.{function}({{0}}))"),
            "torch": other, "jax": other}


# S = sqrtm(M): S dS + dS S = dM, so dS = sylvester(S, S, dM) (Higham 2008, (6.5))
_sqrtm_derivative = _through_map(lambda build, node, slot: build.apply("sylvester", node, node,
                                                                       slot))


register(OpSpec(
    "expm", 1, ATOM, text=call_text("expm"), latex=call_latex(r"\exp"),
    differential=NO_DIFFERENTIAL,
    shape=lambda ctx, node, types: square_shape(ctx, node, types, "expm"),
    evaluate=lambda B, node, x: B.expm(x), call_names=("expm",),
    derivative=_frechet("dexpm"), title="matrix exponential",
    rule="d expm(M) = dexpm(M, dM)", transpose=_transposed_argument,
    code={"numpy": needs("import scipy.linalg", "scipy.linalg.expm({0})"),
          "torch": "torch.linalg.matrix_exp({0})",
          "jax": needs("import jax.scipy.linalg", "jax.scipy.linalg.expm({0})")},
    source=f"{HIGHAM}, chapter 10 and (10.15): the Fréchet derivative; "
           "tr: d tr(expm(X)) = tr(expm(X) dX)",
    example="tr(expm(X) C)", example_where="X: square"))

register(OpSpec(
    "logm", 1, ATOM, text=call_text("logm"), latex=call_latex(r"\log"),
    differential=NO_DIFFERENTIAL,
    shape=lambda ctx, node, types: square_shape(ctx, node, types, "logm"),
    evaluate=lambda B, node, x: B.logm(x), call_names=("logm",),
    derivative=_frechet("dlogm"), title="matrix logarithm",
    rule="d logm(M) = dlogm(M, dM)", transpose=_transposed_argument,
    code=_primary_code("logm"), domains=("positive_spectrum",),
    source=f"{HIGHAM}, chapter 11 and Theorem 3.11 (Daleckii-Krein); "
           "tr: d tr(logm(X)) = tr(X^-1 dX)",
    example="tr(logm(X) C)", example_where="X: square"))

register(OpSpec(
    "sqrtm", 1, ATOM, text=call_text("sqrtm"),
    differential=NO_DIFFERENTIAL,
    latex=lambda p, node: f"{p.base(node.args[0])}^{{1/2}}",
    shape=lambda ctx, node, types: square_shape(ctx, node, types, "sqrtm"),
    evaluate=lambda B, node, x: B.sqrtm(x), call_names=("sqrtm",),
    derivative=_sqrtm_derivative, title="matrix square root",
    rule="d sqrtm(M) = sylvester(S, S, dM), S = sqrtm(M)", transpose=_transposed_argument,
    code=_primary_code("sqrtm"), domains=("positive_spectrum",),
    source=f"{HIGHAM}, chapter 6, (6.5): S L + L S = E",
    example="tr(sqrtm(X) C)", example_where="X: square"))


# -- the pseudo-inverse -----------------------------------------------------------------------------

# Singular values below this (relative to the largest) are zero: pinv(λ I - S) for an
# eigenvalue λ of S, as the eigenvector rule writes it, has rank n - 1 to rounding, and
# the sampling domain of pinv ("definite_rank") keeps the others well above it.
PINV_RTOL = 1e-10


def _pinv_shape(ctx, node, types):
    if types[0].kind != "matrix":
        ctx.fail(f"pinv takes a matrix, not {ctx.describe(types[0])}", node)
    return types[0].transposed()


def _pinv_derivative(d, node, idx):
    """At constant rank (Golub & Pereyra 1973, Theorem 4.3), with P = pinv(A):
    dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P."""
    (a,) = node.args
    b, p, (i, j) = d.build, node, idx
    p_t = b.apply("transpose", p)
    off_range = b.total([b.identity(a.ty.rows), b.negate(b.apply("matmul", a, p))],
                        b.identity(a.ty.rows).ty)
    off_rows = b.total([b.identity(a.ty.cols), b.negate(b.apply("matmul", p, a))],
                       b.identity(a.ty.cols).ty)
    terms = []
    for left, right, transposed, sign in (
            (p, p, False, -1), (b.apply("matmul", p, p_t), off_range, True, 1),
            (off_rows, b.apply("matmul", p_t, p), True, 1)):
        k, l = d.fresh(), d.fresh()
        da = d.expr(a, (l, k) if transposed else (k, l))
        terms += d.times(d.term(d.factor(left, (i, k)), coeff=sign), da,
                         d.term(d.factor(right, (l, j))))
    return terms


register(OpSpec(
    "pinv", 1, ATOM, text=call_text("pinv"),
    differential=NO_DIFFERENTIAL,
    latex=lambda p, node: f"{p.base(node.args[0])}^{{+}}", shape=_pinv_shape,
    evaluate=lambda B, node, x: B.xp.linalg.pinv(x, rtol=PINV_RTOL), call_names=("pinv",),
    derivative=_pinv_derivative, title="pseudo-inverse",
    rule="dA^+ = -A^+ dA A^+ + A^+ A^+T dA^T (I - A A^+) + (I - A^+ A) dA^T A^+T A^+",
    transpose=_transposed_argument, code=f"{{xp}}.linalg.pinv({{0}}, rtol={PINV_RTOL})",
    domains=("definite_rank",),
    source="Golub & Pereyra, SIAM J. Numer. Anal. 10 (1973), Theorem 4.3 (constant rank)",
    example="tr(pinv(A) C)"))


# -- the Cholesky factor ------------------------------------------------------------------------------

def _chol_derivative(d, node, idx):
    """L = chol(A): dL = L Φ(L^-1 dA_s L^-T), dA_s = (dA + dA^T)/2 the symmetric part,
    Φ the lower triangle with half the diagonal (Murray 2016, eq. 10)."""
    (a,) = node.args
    i, j = idx
    inv = d.build.apply("inv", node)

    def direction(k):
        row, col = k
        p, q = d.fresh(), d.fresh()
        sides = d.term(d.factor(inv, (row, p)), d.factor(inv, (col, q)), coeff=HALF)
        return d.times(sides, d.expr(a, (p, q)) + d.expr(a, (q, p)))
    inner = d.fresh()
    phi = d.build.apply("lowerhalf", d.build.slot(node.ty))
    return d.times(d.term(d.factor(node, (i, inner))), d.through(phi, (inner, j), direction))


CHOLESKY = '''def _mc_chol(x):
    return {m}.linalg.cholesky((x + x.T) / 2)
'''

register(OpSpec(
    "chol", 1, ATOM, text=call_text("chol"), latex=call_latex(r"\operatorname{chol}"),
    differential=NO_DIFFERENTIAL,
    shape=lambda ctx, node, types: square_shape(ctx, node, types, "chol"),
    evaluate=lambda B, node, x: B.cholesky(x), call_names=("chol",),
    derivative=_chol_derivative, title="Cholesky factor",
    rule="dL = L lowerhalf(L^-1 dA L^-T), L = chol(A), dA symmetric",
    code=helper_template("_mc_chol", {b: CHOLESKY.format(m=m) for b, m in
                                      (("numpy", "np"), ("torch", "torch"), ("jax", "jnp"))}),
    domains=("spd",),
    source="Murray, Differentiation of the Cholesky decomposition, arXiv:1602.07527 (2016), "
           "eq. 10; logdet(S) = 2 sum(log(diag(chol(S))))",
    example="tr(chol(S) C)", example_where="S: square"))


# -- extreme eigenvalues and their eigenvectors --------------------------------------------------------

def _eigenvalue_derivative(vector_op: str):
    """dλ = v^T dS v for a simple eigenvalue λ with unit eigenvector v (Magnus 1985)."""
    def rule(d, node, idx):
        (s,) = node.args
        v = d.build.apply(vector_op, s)
        a, b = d.fresh(), d.fresh()
        return d.times(d.term(d.factor(v, (a, None)), d.factor(v, (b, None))),
                       d.expr(s, (a, b)))
    return rule


def _eigenvector_derivative(value_op: str):
    """dv = (λ I - S)^+ dS v for a simple eigenvalue λ of a symmetric S, v of unit length
    (Magnus 1985, Theorem 1); S and dS are their symmetric parts here."""
    def rule(d, node, idx):
        (s,) = node.args
        b = d.build
        half = b.apply("div", b.num(1), b.num(2))
        symmetric = b.product(half, b.total([s, b.apply("transpose", s)], s.ty))
        shifted = b.total([b.product(b.apply(value_op, s), b.identity(s.ty.rows)),
                           b.negate(symmetric)], s.ty)
        p, q = d.fresh(), d.fresh()
        left = d.term(d.factor(b.apply("pinv", shifted), (idx[0], p)),
                      d.factor(node, (q, None)), coeff=HALF)
        return d.times(left, d.expr(s, (p, q)) + d.expr(s, (q, p)))
    return rule


EIGVAL = '''def _mc_eigval(s, k):
    return {m}.linalg.eigvalsh((s + s.T) / 2)[k]
'''
EIGVEC = {
    "numpy": '''def _mc_eigvec(s, k):
    v = np.linalg.eigh((s + s.T) / 2)[1][:, k]
    return v * np.sign(v[np.argmax(np.abs(v))])
''',
    "torch": '''def _mc_eigvec(s, k):
    v = torch.linalg.eigh((s + s.T) / 2)[1][:, k]
    top = (v.abs() == v.abs().max()).to(v.dtype)
    return v * torch.sign((v * top).sum())
''',
    "jax": '''def _mc_eigvec(s, k):
    v = jnp.linalg.eigh((s + s.T) / 2)[1][:, k]
    return v * jnp.sign(v[jnp.argmax(jnp.abs(v))])
''',
}
EIGEN_SOURCE = ("Magnus, On differentiating eigenvalues and eigenvectors, Econometric Theory 1 "
                f"(1985), Theorem 1; {MAGNUS}, section 8.9")


def _extreme(value_op: str, vector_op: str, end: int, word: str) -> None:
    domain = "simple_max" if end == -1 else "simple_min"
    register(OpSpec(
        value_op, 1, ATOM, text=call_text(value_op),
        differential=NO_DIFFERENTIAL,
        latex=lambda p, node: f"\\lambda_{{\\{word}}}\\left({p.arg(node.args[0], 0)}\\right)",
        shape=_eigenvalue_shape, evaluate=lambda B, node, x: B.eigh(x)[0][end].reshape(1, 1),
        call_names=(value_op,), derivative=_eigenvalue_derivative(vector_op),
        title=f"{word}imum eigenvalue", rule=f"dλ = v^T dS v, v = {vector_op}(S)",
        code=helper_template("_mc_eigval", {b: EIGVAL.format(m=m) for b, m in
                                            (("numpy", "np"), ("torch", "torch"),
                                             ("jax", "jnp"))}, str(end)),
        domains=(domain,), source=EIGEN_SOURCE,
        example=f"{value_op}(S)", example_where="S: square"))
    register(OpSpec(
        vector_op, 1, ATOM, text=call_text(vector_op),
        differential=NO_DIFFERENTIAL,
        latex=lambda p, node: f"v_{{\\{word}}}\\left({p.arg(node.args[0], 0)}\\right)",
        shape=_eigenvector_shape,
        evaluate=lambda B, node, x: B.signed(B.eigh(x)[1][:, end]).reshape(-1, 1),
        call_names=(vector_op,), derivative=_eigenvector_derivative(value_op),
        title=f"eigenvector of the {word}imum eigenvalue",
        rule=f"dv = pinv(λ I - S) dS v, λ = {value_op}(S)",
        code=helper_template("_mc_eigvec", EIGVEC, str(end)),
        domains=(domain,), source=EIGEN_SOURCE,
        example=f"{vector_op}(S)^T a", example_where="S: square"))


def _eigenvalue_shape(ctx, node, types):
    square(ctx, node, types[0], node.op)
    return SCALAR


def _eigenvector_shape(ctx, node, types):
    square(ctx, node, types[0], node.op)
    return Shape(types[0].rows, ONE)


_extreme("eigmax", "eigvecmax", -1, "max")
_extreme("eigmin", "eigvecmin", 0, "min")


# -- the spectral and nuclear norms --------------------------------------------------------------------

def _matrix_norm_shape(ctx, node, types):
    if types[0].kind != "matrix":
        ctx.fail(f"this norm takes a matrix, not {ctx.describe(types[0])}", node)
    return SCALAR


def _spectral_derivative(d, node, idx):
    """d||X||_2 = u^T dX v with v the top right singular vector, v = eigvecmax(X^T X), and
    u = X v / ||X||_2 (a simple largest singular value)."""
    (x,) = node.args
    b = d.build
    v = b.apply("eigvecmax", b.apply("matmul", b.apply("transpose", x), x))
    k, l = d.fresh(), d.fresh()
    return d.times(d.term(d.factor(b.reciprocal(node), (None, None)),
                          d.factor(b.apply("matmul", x, v), (k, None)), d.factor(v, (l, None))),
                   d.expr(x, (k, l)))


def _known_wide(x) -> bool:
    """Whether x's declared sizes are numbers with fewer rows than columns."""
    try:
        return dim_size(x.ty.rows, {}) < dim_size(x.ty.cols, {})
    except KeyError:  # a symbolic size: full column rank is assumed (the sampled domain)
        return False


def _nuclear_derivative(d, node, idx):
    """d||X||_* = tr((U V^T)^T dX), U V^T = X sqrtm(X^T X)^-1 for X of full column rank,
    sqrtm(X X^T)^-1 X for X declared wide (full row rank)."""
    (x,) = node.args
    b = d.build
    xt = b.apply("transpose", x)
    if _known_wide(x):
        polar = b.apply("matmul", b.apply("inv", b.apply("sqrtm", b.apply("matmul", x, xt))), x)
    else:
        polar = b.apply("matmul", x, b.apply("inv", b.apply("sqrtm", b.apply("matmul", xt, x))))
    k, l = d.fresh(), d.fresh()
    return d.times(d.term(d.factor(polar, (k, l))), d.expr(x, (k, l)))


def _matrix_norm(name: str, order, suffix: str, derivative, title: str, rule: str,
                 domain: str, source: str) -> None:
    quoted = repr(order) if isinstance(order, str) else str(order)
    register(OpSpec(
        name, 1, ATOM, text=norm_text(f"_{suffix}"),
        differential=NO_DIFFERENTIAL,
        latex=lambda p, node: f"\\left\\|{p.arg(node.args[0], 0)}\\right\\|_{{{suffix}}}",
        shape=_matrix_norm_shape,
        evaluate=lambda B, node, x: B.xp.linalg.matrix_norm(x, ord=order).reshape(1, 1),
        derivative=derivative, title=title, rule=rule,
        code={"numpy": f"np.linalg.norm({{0}}, {quoted})",
              "torch": f"torch.linalg.matrix_norm({{0}}, {quoted})",
              "jax": f"jnp.linalg.norm({{0}}, {quoted})"},
        flags=frozenset({"vanishes_at_zero"}), domains=(domain,), source=source,
        example=f"||A X||_{suffix}"))


_matrix_norm("normspec", 2, "2", _spectral_derivative, "spectral norm",
             "d||X||_2 = u^T dX v (top singular vectors)", "simple_sv",
             f"{MAGNUS}, section 8.9 (the largest singular value as sqrt(eigmax(X^T X)))")
_matrix_norm("normnuc", "nuc", "*", _nuclear_derivative, "nuclear norm",
             "d||X||_* = tr((U V^T)^T dX), U V^T = X sqrtm(X^T X)^-1", "full_column_rank",
             "Watson, Characterization of the subdifferential of some matrix norms, Linear "
             "Algebra Appl. 170 (1992); U V^T = X (X^T X)^-1/2 (the polar factor)")
