"""The linear maps that derivatives of matrix functions are written with: Fréchet
derivatives (`dexpm`, `dlogm`), the Sylvester solve (`sylvester`) and the Φ of the
Cholesky rule (`lowerhalf`). One block each: shape, printing, derivative rule, adjoint,
evaluation and generated code.

Each is linear in its direction arguments. A rule that applies one to a differential
writes it with a slot where the direction goes (`d.through(dexpm(M, □), idx, dM)`);
recovery then applies the map to the direction, or its adjoint (the record's `adjoint`)
to the cotangent, so that a gradient reads `dexpm(X^T, a b^T)` (`index.linear_maps`).
The maps close under differentiation: dexpm(X, E1, …, Ek) is the ordered k-th Fréchet
derivative, the top right block of expm of the block bidiagonal matrix with X on the
diagonal and E1 … Ek above it (Higham, "Functions of Matrices", SIAM 2008, (3.16);
Higham & Relton, "Higher order Fréchet derivatives of matrix functions", SIAM J. Matrix
Anal. Appl. 35 (2014)); its derivative by X inserts dX at each place, and its adjoint in
E_p is the same map at X^T with the other directions transposed and turned around G.
"""

from __future__ import annotations

from collections.abc import Callable

from ..language.expr import Apply, Const
from .spec import ATOM, OpSpec, call_latex, call_text, register, unavailable
from .structure import square

HIGHAM = "Higham, Functions of Matrices: Theory and Computation (SIAM, 2008)"

# The derivation by differentials (calculus.differential) has no step yet that reads a
# gradient back through a linear map's adjoint; these records and the matrix functions
# say so, and the index form derives them (mc.derive).
NO_DIFFERENTIAL = unavailable(
    "its differential is a linear map of the argument's differential (a Fréchet "
    "derivative, a Sylvester solve, Cholesky's Φ, an eigenvector's projector), which the "
    "derivation by differentials does not read back as a gradient yet; mc.derive (the "
    "index form) derives it")


# -- shared pieces ------------------------------------------------------------------------------

def helper_template(name: str, sources: dict[str, str], *extra: str,
                    imports: dict[str, tuple[str, ...]] | None = None):
    """A code template calling `name(arguments…, extra…)`, a function the generated
    module defines once from its source for the backend (with the imports it needs)."""
    def template(g, node, a):
        g.helpers[name] = sources[g.backend]
        g.imports.update((imports or {}).get(g.backend, ()))
        return f"{name}({', '.join([g.tensor(x) for x in a] + list(extra))})"
    return template


def directions_out(positions: tuple[int, ...] | None) -> Callable:
    """A node rule for a map linear in the arguments at `positions` (None: all but the
    first): a scalar factor or a sign of a direction comes out, a zero direction is 0."""
    def rule(build, e):
        places = range(1, len(e.args)) if positions is None else positions
        for p in places:
            arg = e.args[p]
            if build.is_zero(arg):
                return build.zero(e.ty)
            if isinstance(arg, Apply) and arg.op == "neg":
                return build.negate(_with(build, e, p, arg.args[0]))
            if isinstance(arg, Apply) and arg.op == "mul":
                s, m = arg.args if arg.args[0].ty.is_scalar else arg.args[::-1]
                if s.ty.is_scalar and not m.ty.is_scalar:
                    return build.product(s, _with(build, e, p, m))
        return None
    return rule


def square_shape(ctx, node, types, what: str):
    """The shape of a square matrix's function: its argument's."""
    square(ctx, node, types[0], what)
    return types[0]


def _with(build, e, position: int, value):
    args = list(e.args)
    args[position] = value
    return build.apply(e.op, *args, attrs=e.attrs)


def _is_identity(e) -> bool:
    return isinstance(e, Const) and e.name == "I"


# -- Fréchet derivatives of expm and logm ----------------------------------------------------------

def _frechet_shape(ctx, node, types):
    if len(types) < 2:
        ctx.fail(f"{node.op} takes a matrix and at least one direction: {node.op}(X, E)",
                 node)
    square(ctx, node, types[0], node.op)
    for ty in types[1:]:
        if not ctx.unify_shapes(types[0], ty):
            ctx.fail(f"a direction of {node.op} is shaped like its matrix "
                     f"({ctx.describe(types[0])}), not {ctx.describe(ty)}", node)
    return types[0]


def _frechet_derivative(d, node, idx):
    """d D(X; E1…Ek) = Σ_p D(X; E1…Ep, dX, Ep+1…Ek) + Σ_p D(X; …, dEp, …): dX inserted at
    each of the k+1 places, and each direction differentiated (Higham & Relton 2014)."""
    x, *directions = node.args
    slot = d.build.slot(x.ty)
    terms = []
    for p in range(len(directions) + 1):
        inserted = d.build.apply(node.op, x, *directions[:p], slot, *directions[p:])
        terms += d.through(inserted, idx, lambda k: d.expr(x, k))
    for p, e in enumerate(directions):
        replaced = d.build.apply(node.op, x, *directions[:p], slot, *directions[p + 1:])
        terms += d.through(replaced, idx, lambda k, e=e: d.expr(e, k))
    return terms


def _frechet_adjoint(build, node, position, g):
    """<G, D(X; E1…Ek)> = <D(X^T; E_{p-1}^T…E1^T, G, Ek^T…E_{p+1}^T), E_p>: the trace
    of a product turned around (a primary function's power series, term by term)."""
    x, *directions = node.args
    p = position - 1
    before = [build.apply("transpose", e) for e in reversed(directions[:p])]
    after = [build.apply("transpose", e) for e in reversed(directions[p + 1:])]
    return build.apply(node.op, build.apply("transpose", x), *before, g, *after)


def _frechet_transpose(build, node):
    """D(X; E1…Ek)^T = D(X^T; Ek^T…E1^T)."""
    return build.apply(node.op, *(build.apply("transpose", a) for a in
                                  (node.args[0], *reversed(node.args[1:]))))


def _commuting(fprime):
    """D(X; E) = f'(X) E where E commutes with X as written (E = I, or E and X multiples of
    one matrix): f'(X) = expm(X) for expm, X^-1 for logm (Higham 2008, section 3.2: a
    power series' derivative in a commuting direction)."""
    def rule(build, e):
        if len(e.args) != 2:
            return None
        x, direction = e.args
        if _is_identity(direction):
            return fprime(build, x)
        if _multiple(x, direction) or _multiple(direction, x):
            return build.apply("matmul", fprime(build, x), direction)
        return None
    return rule


def _multiple(a, b) -> bool:
    """Whether a is b, -b or s b for a scalar s."""
    if a == b:
        return True
    if isinstance(a, Apply) and a.op == "neg":
        return _multiple(a.args[0], b)
    return isinstance(a, Apply) and a.op == "mul" and (
        (a.args[0].ty.is_scalar and a.args[1] == b) or (a.args[1].ty.is_scalar and a.args[0] == b))


NUMPY_FRECHET = '''def _mc_frechet(f, x, *directions):
    n, k = x.shape[0], len(directions)
    zero = np.zeros((n, n))
    block = np.block([[x if j == i else directions[i] if j == i + 1 else zero
                       for j in range(k + 1)] for i in range(k + 1)])
    return np.real(f(block))[:n, -n:]
'''
TORCH_FRECHET_EXPM = '''def _mc_frechet_expm(x, *directions):
    n, k = x.shape[0], len(directions)
    zero = torch.zeros((n, n), dtype=x.dtype)
    block = torch.cat([torch.cat([x if j == i else directions[i] if j == i + 1 else zero
                                  for j in range(k + 1)], dim=1) for i in range(k + 1)])
    return torch.linalg.matrix_exp(block)[:n, -n:]
'''
JAX_FRECHET_EXPM = '''def _mc_frechet_expm(x, *directions):
    n, k = x.shape[0], len(directions)
    zero = jnp.zeros((n, n))
    block = jnp.block([[x if j == i else directions[i] if j == i + 1 else zero
                        for j in range(k + 1)] for i in range(k + 1)])
    return jax.scipy.linalg.expm(block)[:n, -n:]
'''
# logm's Fréchet derivative in one direction, V (F ∘ (V^-1 E V)) V^-1 with F the divided
# differences of log at the eigenvalues (Daleckii-Krein; Higham 2008, Theorem 3.11)
DIVIDED_LOG = '''def _mc_dlogm(x, e):
    lam, v = {m}.linalg.eig(x)
    n = lam.shape[0]
    gap = lam[:, None] - lam[None, :]
    close = {m}.abs(gap) <= 1e-9 * ({m}.abs(lam)[:, None] + {m}.abs(lam)[None, :])
    logs = {m}.log(lam)
    divided = {m}.where(close, 1 / {m}.broadcast_to(lam[:, None], (n, n)),
                        (logs[:, None] - logs[None, :]) / {m}.where(close, 1, gap))
    inside = {m}.linalg.solve(v, e.astype(v.dtype) @ v)
    return {m}.real(v @ (divided * inside) @ {m}.linalg.inv(v))
'''
SCIPY = {"numpy": ("import scipy.linalg",)}


def _one_direction_only(template):
    def code(g, node, a):
        if len(a) != 2:
            from ..errors import UnsupportedError
            raise UnsupportedError(f"{g.backend} code for {node.op} with more than one "
                                   "direction is not generated", hint="use backend=\"numpy\"")
        return template(g, node, a)
    return code


def _dexpm_numpy(g, node, a):
    if len(a) == 2:  # scipy's Fréchet routine (Al-Mohy & Higham 2009)
        g.imports.add("import scipy.linalg")
        return (f"scipy.linalg.expm_frechet({g.tensor(a[0])}, {g.tensor(a[1])}, "
                "compute_expm=False)")
    return helper_template("_mc_frechet", {"numpy": NUMPY_FRECHET}, imports=SCIPY)(
        g, node, [_Raw("scipy.linalg.expm")] + list(a))


def _dlogm_numpy(g, node, a):
    return helper_template("_mc_frechet", {"numpy": NUMPY_FRECHET}, imports=SCIPY)(
        g, node, [_Raw("scipy.linalg.logm")] + list(a))


class _Raw:
    """A piece of code passed to a helper as it is (a function's name)."""

    def __init__(self, raw: str) -> None:
        self.raw, self.pyfloat = raw, False


def _dexpm_jax(g, node, a):
    if len(a) == 2:
        g.imports.add("import jax.scipy.linalg")
        return (f"jax.scipy.linalg.expm_frechet({a[0].raw}, {a[1].raw}, "
                "compute_expm=False)")
    return helper_template("_mc_frechet_expm", {"jax": JAX_FRECHET_EXPM},
                           imports={"jax": ("import jax.scipy.linalg",)})(g, node, a)


def frechet(name: str, function: str, value, title: str, example: str, domain: str,
            code: dict) -> OpSpec:
    return register(OpSpec(
        name, None, ATOM, text=call_text(name),
        differential=NO_DIFFERENTIAL,
        latex=call_latex(rf"\operatorname{{{name}}}"), shape=_frechet_shape,
        evaluate=lambda B, node, x, *es: B.frechet(function, x, list(es)),
        call_names=(name,), derivative=_frechet_derivative,
        title=title, rule=f"d {name}(X, E) = {name}(X, dX, E) + {name}(X, E, dX) + "
                          f"{name}(X, dE)",
        adjoint=_frechet_adjoint, transpose=_frechet_transpose,
        rules=(_commuting(value), directions_out(None)), code=code,
        domains=(domain,) if domain == "real" else (domain, "real"),
        source=f"{HIGHAM}, (3.16) and section 3.2; Higham & Relton, SIAM J. Matrix Anal. "
               "Appl. 35 (2014), higher order Fréchet derivatives",
        example=example, example_where="X: square"))


frechet("dexpm", "expm", lambda build, x: build.apply("expm", x),
        "Fréchet derivative of expm", "tr(dexpm(X, E) C)", "real",
        {"numpy": _dexpm_numpy, "jax": _dexpm_jax,
         "torch": helper_template("_mc_frechet_expm", {"torch": TORCH_FRECHET_EXPM})})
frechet("dlogm", "logm", lambda build, x: build.apply("inv", x),
        "Fréchet derivative of logm", "tr(dlogm(X, E) C)", "positive_spectrum",
        {"numpy": _dlogm_numpy,
         "torch": _one_direction_only(helper_template(
             "_mc_dlogm", {"torch": DIVIDED_LOG.format(m="torch").replace(
                 "e.astype(v.dtype)", "e.to(v.dtype)")})),
         "jax": _one_direction_only(helper_template(
             "_mc_dlogm", {"jax": DIVIDED_LOG.format(m="jnp")}))})


# -- the Sylvester solve -------------------------------------------------------------------------

def _sylvester_shape(ctx, node, types):
    a, b, c = types
    square(ctx, node, a, "sylvester's A")
    square(ctx, node, b, "sylvester's B")
    if c.kind != "matrix" or not (ctx.unify(a.rows, c.rows) and ctx.unify(b.rows, c.cols)):
        ctx.fail(f"sylvester(A, B, C) solves A Y + Y B = C: C has A's rows and B's "
                 f"columns, not {ctx.describe(c)}", node)
    return c


def _sylvester_derivative(d, node, idx):
    """A Y + Y B = C gives A dY + dY B = dC - dA Y - Y dB: dY = sylvester(A, B, dC - dA Y
    - Y dB) (Magnus & Neudecker 2019, chapter 8)."""
    a, b, c = node.args
    linear = d.build.apply("sylvester", a, b, d.build.slot(c.ty))

    def direction(k):
        row, col = k
        inner_a, inner_b = d.fresh(), d.fresh()
        from_a = d.times(d.expr(a, (row, inner_a)), d.term(d.factor(node, (inner_a, col))))
        from_b = d.times(d.term(d.factor(node, (row, inner_b))), d.expr(b, (inner_b, col)))
        return d.expr(c, k) + [t.scaled(-1) for t in from_a + from_b]
    return d.through(linear, idx, direction)


def _half_inverse(build, e):
    """sylvester(A, A, I) = 1/2 A^-1 (A Y + Y A = I is solved by Y = A^-1/2)."""
    a, b, c = e.args
    if a == b and _is_identity(c):
        return build.product(build.apply("div", build.num(1), build.num(2)),
                             build.apply("inv", a))
    return None


def _sylvester_kron(build, node):
    """vec(Y) = (I ⊗ A + B^T ⊗ I)^-1 vec(C) (Magnus & Neudecker 2019, chapter 2)."""
    a, b, _ = node.args
    kron = build.apply("add", build.apply("kron", build.identity(b.ty.rows), a),
                       build.apply("kron", build.apply("transpose", b), build.identity(a.ty.rows)))
    return build.apply("inv", kron)


TORCH_SYLVESTER = '''def _mc_sylvester(a, b, c):
    m, n = c.shape
    eye_m, eye_n = torch.eye(m, dtype=c.dtype), torch.eye(n, dtype=c.dtype)
    system = (eye_n[:, None, :, None] * a[None, :, None, :]).reshape(m * n, m * n) + (
        b.T[:, None, :, None] * eye_m[None, :, None, :]).reshape(m * n, m * n)
    solved = torch.linalg.solve(system, c.T.reshape(-1))
    return solved.reshape(n, m).T
'''

register(OpSpec(
    "sylvester", 3, ATOM, text=call_text("sylvester"),
    differential=NO_DIFFERENTIAL,
    latex=call_latex(r"\operatorname{sylvester}"), shape=_sylvester_shape,
    evaluate=lambda B, node, a, b, c: B.sylvester(a, b, c), call_names=("sylvester",),
    derivative=_sylvester_derivative, title="Sylvester solve",
    rule="d sylvester(A, B, C) = sylvester(A, B, dC - dA Y - Y dB), Y = sylvester(A, B, C)",
    adjoint=lambda build, node, position, g: build.apply(
        "sylvester", *(build.apply("transpose", m) for m in node.args[:2]), g),
    transpose=lambda build, node: build.apply(
        "sylvester", *(build.apply("transpose", m) for m in (node.args[1], node.args[0],
                                                            node.args[2]))),
    rules=(_half_inverse, directions_out((2,))), kron=_sylvester_kron,
    code={"numpy": lambda g, node, a: g.require(
              "import scipy.linalg", f"scipy.linalg.solve_sylvester({', '.join(x.raw for x in a)})"),
          "torch": helper_template("_mc_sylvester", {"torch": TORCH_SYLVESTER}),
          "jax": lambda g, node, a: g.require(
              "import jax.scipy.linalg",
              f"jax.scipy.linalg.solve_sylvester({', '.join(x.raw for x in a)})")},
    domains=("positive_spectrum", "positive_spectrum", "real"),
    source="Bartels & Stewart, Comm. ACM 15 (1972) (the solve); Magnus & Neudecker, Matrix "
           "Differential Calculus (3rd ed., Wiley 2019), chapter 8 (its differential)",
    example="tr(sylvester(A, B, C) D)", example_where="A, B: square"))


# -- Φ: the lower triangle with half the diagonal --------------------------------------------------

LOWER_HALF = {
    "numpy": "np.tril({0}, -1) + np.diag(np.diag({0})) / 2",
    "torch": "torch.tril({0}, -1) + torch.diag_embed(torch.diagonal({0})) / 2",
    "jax": "jnp.tril({0}, -1) + jnp.diag(jnp.diag({0})) / 2",
}

register(OpSpec(
    "lowerhalf", 1, ATOM, text=call_text("lowerhalf"), latex=call_latex(r"\Phi"),
    differential=NO_DIFFERENTIAL,
    shape=lambda ctx, node, types: square_shape(ctx, node, types, "lowerhalf"),
    evaluate=lambda B, node, x: B.lower_half(x), call_names=("lowerhalf",),
    derivative=lambda d, node, idx: d.through(
        d.build.apply("lowerhalf", d.build.slot(node.ty)), idx,
        lambda k: d.expr(node.args[0], k)),
    title="Φ (lower triangle, half diagonal)", rule="d Φ(M) = Φ(dM), Φ linear",
    adjoint=lambda build, node, position, g: build.apply("lowerhalf", g),
    rules=(directions_out((0,)),),
    code=lambda g, node, a: g.render(LOWER_HALF[g.backend], node, [_Atomic(a[0])]),
    source="Murray, Differentiation of the Cholesky decomposition, arXiv:1602.07527 (2016), "
           "Φ; self-adjoint: <G, Φ(E)> = <Φ(G), E>",
    example="tr(lowerhalf(X) A)", example_where="X: square"))


class _Atomic:
    """An operand written where it is read twice: parenthesized unless atomic."""

    def __init__(self, operand) -> None:
        self.raw, self.pyfloat = operand.code, operand.pyfloat
