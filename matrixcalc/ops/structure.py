"""Structural operators: trace, sums and means of entries, vec and unvec, diag, Kronecker
products, the commutation matrix and bracket literals. One block per operator."""

from __future__ import annotations

from ..errors import UnsupportedError
from ..language.expr import Apply, Dimension, Number, Symbol, walk
from ..language.shapes import ONE, SCALAR, Shape, normalize
from .arithmetic import COOKBOOK
from .spec import (
    ATOM,
    PRODUCT,
    Differential,
    OpSpec,
    bilinear,
    call_latex,
    call_text,
    constant,
    infix_text,
    linear,
    register,
)


def square(ctx, node, ty, what):
    """Fail unless ty is a square matrix (unifying its dimensions)."""
    if ty.kind != "matrix" or not ctx.unify(ty.rows, ty.cols):
        ctx.fail(f"{what} needs a square matrix, not {ctx.describe(ty)}", node,
                 hint=_product_hint(ctx, node, ty))


def _product_hint(ctx, node, ty) -> str | None:
    """Where a Kronecker product's dimensions multiply and nothing fixes them, name the
    declaration that would (its factors square, or their dimensions named)."""
    ty = ctx.resolve(ty)
    if ty.kind != "matrix" or max(len(ty.rows), len(ty.cols)) < 2:
        return None
    names = sorted({n.name for n in walk(node) if isinstance(n, Symbol) and n.ty is not None
                    and n.ty.kind == "matrix"})
    if not names:
        return None
    listed = ", ".join(names)
    return (f"the dimensions of a Kronecker product multiply and nothing here fixes them: "
            f"declare the factors square (where=\"{listed}: square\") or name their "
            f"dimensions (where=\"{names[0]}: matrix(n, n)\")")


def on_arrays(template):
    """A code template for an operator that is the identity on a scalar (tr, det)."""
    def code(g, node, a):
        return a[0].raw if a[0].shape.is_scalar else g.render(template, node, a)
    return code


def _identity(S, node, a):
    return a


# -- trace, sum, mean ----------------------------------------------------------------------

def _trace_shape(ctx, node, types):
    if not types[0].is_scalar:
        square(ctx, node, types[0], "tr")
    return SCALAR


def _trace_lower(L, node, idx):
    """tr(M) = M_aa."""
    (arg,) = node.args
    if arg.ty.is_scalar:
        return L.lower(arg, idx)
    k = L.fresh()
    return L.lower(arg, (k, k))


register(OpSpec(
    "tr", 1, ATOM, text=call_text("tr"), latex=call_latex(r"\operatorname{tr}"),
    shape=_trace_shape, evaluate=lambda B, node, x: B.trace(x), call_names=("tr", "trace"),
    lower=_trace_lower, scalar=_identity,
    sympy_matrix=lambda S, node, a: S.on_scalar(node, a, S.Trace),
    code=on_arrays("{xp}.trace({0})"),
    flags=frozenset({"linear", "number_code"}), source=f"{COOKBOOK}, section 1.1",
    differential=linear("d tr(U) = tr(dU)", "trace"),
    example="tr(A X B)", example_where="X: square"))


def _sum_lower(L, node, idx):
    """sum(M) = M_ab ones_a ones_b."""
    (arg,) = node.args
    inner = (L.fresh() if arg.ty.rows else None, L.fresh() if arg.ty.cols else None)
    return L.times(L.lower(arg, inner), L.ones_pads(arg.ty, inner))


def _mean_lower(L, node, idx):
    """mean(M) = sum(M) / (the number of entries of M), a size."""
    (arg,) = node.args
    return L.scaled(_sum_lower(L, node, idx), 1 / L.size(arg.ty.rows + arg.ty.cols))


def _total(name: str, lower, source: str, example: str) -> None:
    """sum or mean of all entries: x.sum() / x.mean() in every array module."""
    register(OpSpec(
        name, 1, ATOM, text=call_text(name), latex=call_latex(rf"\operatorname{{{name}}}"),
        shape=lambda ctx, node, types: SCALAR,
        evaluate=lambda B, node, x: getattr(x, name)().reshape(1, 1), call_names=(name,),
        lower=lower, scalar=_identity, sympy_matrix=lambda S, node, a: S.total(node, a),
        code=f"{{xp}}.{name}({{0}})", flags=frozenset({"linear"}), source=source,
        differential=linear(f"d {name}(U) = {name}(dU)", f"{name} of entries"),
        example=example))


_total("sum", _sum_lower, "sum of all entries", "sum(X ⊙ X)")
_total("mean", _mean_lower, "mean of all entries", "mean(A x)")


# -- vec, Kronecker products, the commutation matrix, unvec ----------------------------------

def _vec_shape(ctx, node, types):
    ty = ctx.resolve(types[0])
    return Shape(normalize(ty.rows + ty.cols), ONE)


def _vec_lower(L, node, idx):
    """vec(M)_a = M_ij with a = (j, i): columns stacked (Matrix Cookbook section 10.2.2)."""
    (m,) = node.args
    if m.ty.kind != "matrix":
        return L.lower(m, (idx[0], None) if m.ty.kind != "row vector" else (None, idx[0]))
    pairs, j, i = L.split(idx[0], m.ty.cols, m.ty.rows)
    return L.times(pairs, L.operand(m, (i, j)))


register(OpSpec(
    "vec", 1, ATOM, text=call_text("vec"), latex=call_latex(r"\operatorname{vec}"),
    shape=_vec_shape, evaluate=lambda B, node, x: B.vec(x), call_names=("vec",),
    lower=_vec_lower, scalar=_identity,
    code=lambda g, node, a: (f"{a[0].code}.T.reshape(-1)" if a[0].kind == "matrix"
                             else a[0].raw),
    flags=frozenset({"linear", "expands", "number_code"}),
    differential=linear("d vec(U) = vec(dU)", "vec"),
    source=f"{COOKBOOK}, section 10.2.2 (columns stacked)", example="vec(A X)"))


def _kron_shape(ctx, node, types):
    left, right = (ctx.resolve(t) for t in types)
    return Shape(normalize(left.rows + right.rows), normalize(left.cols + right.cols))


def _kron_lower(L, node, idx):
    """(A ⊗ B)_{(i1 i2)(j1 j2)} = A_{i1 j1} B_{i2 j2} (Matrix Cookbook (506))."""
    a, b = node.args
    if a.ty.is_scalar or b.ty.is_scalar:
        scalar, other = (a, b) if a.ty.is_scalar else (b, a)
        return L.times(L.lower(scalar, (None, None)), L.operand(other, idx))
    rows, i1, i2 = L.split(idx[0], a.ty.rows, b.ty.rows)
    cols, j1, j2 = L.split(idx[1], a.ty.cols, b.ty.cols)
    return L.times(rows, cols, L.operand(a, (i1, j1)), L.operand(b, (i2, j2)))


def _kron_code(g, node, a):
    left, right = a
    if left.shape.is_scalar or right.shape.is_scalar:
        return f"{left.code} * {right.code}"
    views = {"vector": "[:, None]", "row vector": "[None, :]", "matrix": ""}
    tail = ".contiguous()" if g.backend == "torch" else ""  # torch.kron needs it
    code = g.call("kron", left.code + views[left.kind] + tail,
                  right.code + views[right.kind] + tail)
    return code if node.ty.kind == "matrix" else f"{code}.reshape(-1)"


register(OpSpec(
    "kron", 2, PRODUCT, text=infix_text(" ⊗ "), latex=infix_text(r" \otimes "),
    shape=_kron_shape, evaluate=lambda B, node, x, y: B.kron(x, y),
    call_names=("kron",), lower=_kron_lower, scalar=lambda S, node, x, y: x * y,
    sympy_matrix=lambda S, node, a: S.kron(node, a), code=_kron_code,
    flags=frozenset({"bilinear", "associative", "expands", "number_code"}),
    differential=bilinear("d(U ⊗ V) = dU ⊗ V + U ⊗ dV", "Kronecker product rule"),
    source=f"{COOKBOOK}, section 10.2", example="tr(kron(A, X) B)",
    example_where="A, X: square"))


def dimension_of(ctx, node, arg) -> tuple:
    """The dimension a size argument names: a declared dimension, a whole number of at
    least 2, or a product of such."""
    if isinstance(arg, Dimension):
        return (arg.name,)
    if isinstance(arg, Number) and arg.value.denominator == 1 and arg.value >= 2:
        return (int(arg.value),)
    if isinstance(arg, Apply) and arg.op in ("mul", "product"):
        return normalize(dimension_of(ctx, node, arg.args[0]) + dimension_of(ctx, node,
                                                                               arg.args[1]))
    ctx.fail("commutation(m, n) takes two dimensions: names declared as dimensions "
             "(`where=\"X: matrix(m, n)\"`) or whole numbers", node)


def _commutation_shape(ctx, node, types):
    m, n = (dimension_of(ctx, node, a) for a in node.args)
    side = normalize(m + n)
    return Shape(side, side)


def _commutation_lower(L, node, idx):
    """K_ab = [a = (i, j)] [b = (j, i)] for i of m and j of n: K vec(A) = vec(A^T)."""
    m, n = (dimension_of(None, node, arg) for arg in node.args)
    i, j = L.fresh(), L.fresh()
    return L.times(L.pair(idx[0], i, j, m, n), L.pair(idx[1], j, i, n, m))


def _commutation_code(g, node, a) -> str:
    """K[i n + j, j m + i] = 1: the rows of I taken in the order vec(A^T) reads vec(A)."""
    m, n = (f"int({x.code})" for x in a)
    extra = g.float64_argument()
    rows = f"{g.xp}.arange({m} * {n})"
    return f"{g.xp}.eye({m} * {n}{extra})[({rows} % {n}) * {m} + {rows} // {n}]"


register(OpSpec(
    "commutation", 2, ATOM, text=call_text("commutation"), latex=lambda p, node: (
        f"K_{{{p.arg(node.args[0], 0)},{p.arg(node.args[1], 0)}}}"),
    shape=_commutation_shape, evaluate=lambda B, node, m, n: B.commutation(m, n),
    call_names=("commutation",), lower=_commutation_lower, code=_commutation_code,
    flags=frozenset({"scalar_context", "expands"}), differential=constant("dK = 0"),
    source="Magnus & Neudecker (1979): K vec(A) = vec(A^T) for A m×n; "
           "∂vec(X^T)/∂vec(X) = K", example="commutation(m, n) vec(X)",
    example_where="X: matrix(m, n)"))


def _unvec_shape(ctx, node, types):
    v = types[0]
    m, n = (dimension_of(ctx, node, a) for a in node.args[1:])
    if v.kind not in ("vector", "scalar") or not ctx.unify(v.rows, normalize(m + n)):
        ctx.fail(f"unvec(v, m, n) takes a vector of m·n entries, not {ctx.describe(v)}", node)
    return Shape(m, n)


def _unvec_lower(L, node, idx):
    """unvec(v, m, n)_ij = v_c with c = (j, i)."""
    v, m, n = node.args[0], *(dimension_of(None, node, arg) for arg in node.args[1:])
    c = L.fresh()
    return L.times(L.pair(c, idx[1], idx[0], n, m), L.operand(v, (c, None)))


def _unvec_code(g, node, a):
    swap = ".T" if g.backend != "torch" else ".transpose(0, 1)"
    return f"{a[0].code}.reshape(int({a[2].code}), int({a[1].code})){swap}"


register(OpSpec(
    "unvec", 3, ATOM, text=call_text("unvec"),
    latex=lambda p, node: f"\\operatorname{{vec}}^{{-1}}\\left({p.arg(node.args[0], 0)}\\right)",
    shape=_unvec_shape, evaluate=lambda B, node, v, m, n: B.unvec(v, m, n),
    call_names=("unvec",), lower=_unvec_lower, code=_unvec_code,
    flags=frozenset({"linear-in-first", "scalar_context", "expands"}),
    differential=Differential(  # linear in v; m and n are sizes
        lambda D, node, dargs: D.build.apply("unvec", dargs[0], *node.args[1:]), "unvec",
        "d unvec(v, m, n) = unvec(dv, m, n)"),
    source="the inverse of vec: the m×n matrix whose columns, stacked, are v",
    example="tr(A unvec(v, m, n))", example_where="A: matrix(n, m)"))


# -- diag --------------------------------------------------------------------------------------

def by_kind(resolved: dict[str, str], what: str, hint: str | None = None):
    """An `elaborate` hook: the resolved operator for the argument's kind; a shape error
    naming `what` the syntax means for any other kind."""
    def elaborate(ctx, node, types):
        op = resolved.get(types[0].kind)
        if op is None:
            ctx.fail(f"{what}, not defined for {ctx.describe(types[0])}", node, hint=hint)
        return Apply(op, node.args, span=node.span)
    return elaborate


_diag_elaborate = by_kind({"vector": "diag_matrix", "matrix": "diag_vector"},
                          "diag takes a vector or a square matrix")

register(OpSpec(
    "diag", 1, ATOM, call_names=("diag",), elaborate=_diag_elaborate, syntax_only=True,
    source="diag(v) is a diagonal matrix, diag(X) the diagonal of X"))


def _diag_matrix_lower(L, node, idx):
    """diag(v)_ij = δ_ija v_a."""
    a = L.fresh()
    return L.times(L.copy(node.ty.rows, idx[0], idx[1], a), L.operand(node.args[0], (a, None)))


register(OpSpec(
    "diag_matrix", 1, ATOM, text=call_text("diag"), latex=call_latex(r"\operatorname{diag}"),
    shape=lambda ctx, node, types: Shape(types[0].rows, types[0].rows),
    evaluate=lambda B, node, v: B.diag_matrix(v), lower=_diag_matrix_lower,
    sympy_matrix=lambda S, node, a: S.DiagMatrix(a[0]), code="{xp}.diag({0})",
    flags=frozenset({"linear"}), source="the diagonal matrix with v on its diagonal",
    differential=linear("d diag(v) = diag(dv)", "diag"),
    example="x^T diag(v) A x"))


def _diag_vector_shape(ctx, node, types):
    square(ctx, node, types[0], "diag")
    return Shape(types[0].rows, ONE)


def _diag_vector_lower(L, node, idx):
    """diag(M)_i = δ_iab M_ab."""
    a, b = L.fresh(), L.fresh()
    return L.times(L.copy(node.ty.rows, idx[0], a, b), L.operand(node.args[0], (a, b)))


register(OpSpec(
    "diag_vector", 1, ATOM, text=call_text("diag"), latex=call_latex(r"\operatorname{diag}"),
    shape=_diag_vector_shape, evaluate=lambda B, node, x: B.diag_vector(x),
    lower=_diag_vector_lower, sympy_matrix=lambda S, node, a: S.DiagonalOf(a[0]),
    code={"numpy": "np.diagonal({0}).copy()", "torch": "torch.diagonal({0})",
          "jax": "jnp.diagonal({0})"},
    flags=frozenset({"linear"}), source="the diagonal of a square matrix, as a vector",
    differential=linear("d diag(U) = diag(dU)", "diag"),
    example="v^T diag(X A)", example_where="X: square"))


# -- bracket literals -----------------------------------------------------------------------

def _bracket_shape(ctx, node, types):
    rows, cols = node.attrs
    for entry, ty in zip(node.args, types):
        if not ty.is_scalar:
            ctx.fail(f"a bracket literal's entries are scalars; this one is "
                     f"{ctx.describe(ty)}", entry)
    return Shape((rows,) if rows > 1 else ONE, (cols,) if cols > 1 else ONE)


def _bracket_text(p, node):
    rows, cols = node.attrs
    cells = [p.arg(a, 0) for a in node.args]
    return "[" + "; ".join(", ".join(cells[r * cols:(r + 1) * cols])
                           for r in range(rows)) + "]"


def _bracket_latex(p, node):
    rows, cols = node.attrs
    cells = [p.arg(a, 0) for a in node.args]
    body = r" \\ ".join(" & ".join(cells[r * cols:(r + 1) * cols]) for r in range(rows))
    return f"\\begin{{bmatrix}} {body} \\end{{bmatrix}}"


def _bracket_derivative(d, node, idx):
    """A literal of scalar entries, by a scalar: the literal of the entries' derivatives."""
    if not d.wrt.ty.is_scalar:
        raise UnsupportedError("a bracket literal can be differentiated by a scalar only; "
                               "use a list of scalars as `wrt` for its Jacobian")
    entries = [d.scalar_derivative(entry) for entry in node.args]
    literal = d.build.apply("bracket", *entries, attrs=node.attrs)
    return d.term(d.factor(literal, idx))


def _bracket_code(g, node, a):
    rows, cols = node.attrs
    if rows == cols == 1:
        return a[0].raw
    if g.backend != "torch":
        cells = [x.raw for x in a]
        if rows == 1 or cols == 1:
            return f"{g.xp}.array([{', '.join(cells)}])"
        body = ", ".join("[" + ", ".join(cells[r * cols:(r + 1) * cols]) + "]"
                         for r in range(rows))
        return f"{g.xp}.array([{body}])"
    cells = [g.tensor(x) for x in a]
    stacked = f"torch.stack([{', '.join(cells)}])"
    return stacked if rows == 1 or cols == 1 else f"{stacked}.reshape({rows}, {cols})"


register(OpSpec(
    "bracket", None, ATOM, text=_bracket_text, latex=_bracket_latex, shape=_bracket_shape,
    evaluate=lambda B, node, *xs: B.grid(xs, *node.attrs), derivative=_bracket_derivative,
    sympy_matrix=lambda S, node, a: S.literal(node, a), code=_bracket_code,
    title="bracket literal", rule="d[f1; f2] = [df1; df2] by a scalar",
    differential=linear("d[f1, f2; f3, f4] = [df1, df2; df3, df4]", "bracket literal"),
    flags=frozenset({"linear", "scalar_context", "number_code"}),
    source="a matrix of scalar entries, rows split by ;",
    example="[α^2, α β; sin(α), 1]", example_where="α, β: scalar"))
