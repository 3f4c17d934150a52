"""Sums, products and the transpose. One block per operator: shape, printing, index form,
SymPy, evaluation and generated code."""

from __future__ import annotations

from ..errors import UnsupportedError
from ..language.expr import Apply, Symbol, walk
from ..language.shapes import SCALAR, Shape
from .spec import (
    POSTFIX,
    PREFIX,
    PRODUCT,
    SUM,
    Differential,
    OpSpec,
    bilinear,
    infix_text,
    linear,
    postfix_text,
    register,
)

COOKBOOK = "The Matrix Cookbook (Petersen & Pedersen, 2012)"


# -- sums ---------------------------------------------------------------------------------

def _is_numeric(node) -> bool:
    return all(not isinstance(n, Symbol) for n in walk(node))


def _add_shape(ctx, node, types):
    """Terms share one shape; a number (no symbols in it) broadcasts: 1 - sigmoid(z)."""
    result = None
    for arg, ty in zip(node.args, types):
        if ty.is_scalar and _is_numeric(arg):
            continue
        if result is None:
            result = ty
        elif not ctx.unify_shapes(result, ty):
            verb = "subtract" if isinstance(arg, Apply) and arg.op == "neg" else "add"
            joiner = "from" if verb == "subtract" else "and"
            first, second = (ty, result) if verb == "subtract" else (result, ty)
            ctx.fail(f"cannot {verb} {ctx.describe(first)} {joiner} {ctx.describe(second)}",
                     arg if verb == "subtract" else node)
    return result or SCALAR


def _add_text(p, node):
    parts = [p.arg(node.args[0], SUM)]
    for term in node.args[1:]:
        if isinstance(term, Apply) and term.op == "neg":
            parts.append(f" - {p.arg(term.args[0], PRODUCT)}")
        else:
            parts.append(f" + {p.arg(term, PRODUCT)}")
    return "".join(parts)


def _add_lower(L, node, idx):
    """Sums are linear; a number added to a vector or matrix stands for that number times
    ones (ones_i pads along each index)."""
    out = []
    for arg in node.args:
        if arg.ty.is_scalar and not node.ty.is_scalar:
            out += L.times(L.lower(arg, (None, None)), L.ones_pads(node.ty, idx))
        else:
            out += L.lower(arg, idx)
    return out


# Terms per line of generated code: Python's compiler recurses once per `+`, so a long sum
# is added up in partial sums, each a line of its own.
CODE_TERMS = 100


PLUS_TRANSPOSE = """def _mc_plus_transpose(m, tile=32):
    # m + m.T visited tile by tile: m seen as tiles [I, a, J, b] and read in the order
    # (I, J, a, b), so each tile and its mirror stay in cache (the plain sum reads m.T with
    # a stride of a whole row); one numpy call per thread over its rows of tiles (numpy
    # releases the GIL in its loops), the strips past the last whole tile apart. Equal to
    # m + m.T bit for bit. Against one call per pair of tiles, n = 4096: 62 -> 48 ms.
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 8 * tile:
        return m + m.T
    import os
    from concurrent.futures import ThreadPoolExecutor
    size = m.shape[0]
    tiles = size // tile
    inner = tiles * tile
    # C order, so that splitting its axes gives views; the dtype m + m.T would have
    out = np.empty(m.shape, dtype=np.promote_types(m.dtype, m.dtype))
    grid = (tiles, tile, tiles, tile)
    own = m[:inner, :inner].reshape(grid).transpose(0, 2, 1, 3)
    mirror = m[:inner, :inner].reshape(grid).transpose(2, 0, 3, 1)
    into = out[:inner, :inner].reshape(grid).transpose(0, 2, 1, 3)
    threads = min(tiles, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else os.cpu_count() or 1)
    parts = [slice(k * tiles // threads, (k + 1) * tiles // threads) for k in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda p: np.add(own[p], mirror[p], out=into[p], order="C"), parts))
    if inner < size:
        np.add(m[:inner, inner:], m[inner:, :inner].T, out=out[:inner, inner:])
        np.add(m[inner:], m[:, inner:].T, out=out[inner:])
    return out
"""


def _plus_transpose(node) -> bool:
    """M + M^T of a square matrix M."""
    left, right = node.args if len(node.args) == 2 else (None, None)
    return (left is not None and node.ty.kind == "matrix" and isinstance(right, Apply)
            and right.op == "transpose" and right.args[0] == left)


def _add_code(g, node, a):
    if g.backend == "numpy" and _plus_transpose(node):
        return g.helper("_mc_plus_transpose", PLUS_TRANSPOSE, a[0])
    parts = [a[0].raw]
    for arg, operand in zip(node.args[1:], a[1:]):
        if len(parts) == CODE_TERMS:
            parts = [g.temporary("".join(parts))]
        neg = isinstance(arg, Apply) and arg.op == "neg" and operand.raw.startswith("-")
        parts.append(f" - {operand.raw[1:]}" if neg else f" + {operand.raw}")
    return "".join(parts)


register(OpSpec(
    "add", None, SUM, text=_add_text, latex=_add_text, shape=_add_shape,
    evaluate=lambda B, node, *xs: B.add(xs), lower=_add_lower,
    scalar=lambda S, node, *a: S.Add(*a),
    sympy_matrix=lambda S, node, a: S.add(node, a), code=_add_code,
    flags=frozenset({"linear", "commutative", "associative", "expands", "number_code"}),
    differential=linear("d(U + V) = dU + dV", "sum rule"),
    source="definition", example="x + 2 y - 1"))

register(OpSpec(
    "neg", 1, PREFIX,
    text=lambda p, node: f"-{p.arg(node.args[0], PREFIX)}",
    latex=lambda p, node: f"-{p.arg(node.args[0], PREFIX)}",
    shape=lambda ctx, node, types: types[0],
    evaluate=lambda B, node, x: -x,
    lower=lambda L, node, idx: L.scaled(L.lower(node.args[0], idx), -1),
    scalar=lambda S, node, a: -a, sympy_matrix=lambda S, node, a: -a[0],
    code=lambda g, node, a: f"-{a[0].code}",
    flags=frozenset({"linear", "expands", "number_code"}), source="definition",
    differential=linear("d(-U) = -dU", "sum rule"), example="-A"))


# -- products -----------------------------------------------------------------------------

def _product_elaborate(ctx, node, types):
    op = "mul" if types[0].is_scalar or types[1].is_scalar else "matmul"
    return Apply(op, node.args, span=node.span)


register(OpSpec(
    "product", 2, PRODUCT, elaborate=_product_elaborate, syntax_only=True,
    flags=frozenset({"scalar_context"}),
    source="juxtaposition, * and @: a scalar factor scales, otherwise a matrix product"))


def _mul_shape(ctx, node, types):
    left, right = types
    if not (left.is_scalar or right.is_scalar):
        ctx.fail(f"scaling needs a scalar factor, got {ctx.describe(left)} and "
                 f"{ctx.describe(right)}", node)
    return right if left.is_scalar else left


def _mul_lower(L, node, idx):
    scalar, other = node.args if node.args[0].ty.is_scalar else reversed(node.args)
    return L.times(L.lower(scalar, (None, None)), L.operand(other, idx))


register(OpSpec(
    "mul", 2, PRODUCT, text=infix_text(" "), latex=infix_text(" "), shape=_mul_shape,
    evaluate=lambda B, node, x, y: x * y, lower=_mul_lower,
    scalar=lambda S, node, x, y: x * y, sympy_matrix=lambda S, node, a: S.product(node, a),
    code=lambda g, node, a: g.chain(node),  # flattened with matmul
    flags=frozenset({"bilinear", "commutative", "expands"}), source="definition",
    differential=bilinear("d(s U) = ds U + s dU"), example="α A"))


def _matmul_shape(ctx, node, types):
    left, right = types
    if not ctx.unify(left.cols, right.rows):
        hint = None
        if left.kind == "vector" and right.kind in ("vector", "matrix"):
            hint = "for an inner product write x^T y; to scale, declare the factor a scalar"
        ctx.fail(f"cannot multiply {ctx.describe(left)} by {ctx.describe(right)}: "
                 "the inner dimensions differ", node, hint=hint)
    return Shape(left.rows, right.cols)


def _matmul_lower(L, node, idx):
    """(A B)_ij = A_ia B_aj (Matrix Cookbook (1))."""
    left, right = node.args
    inner = L.fresh() if left.ty.cols else None
    return L.times(L.operand(left, (idx[0], inner)), L.operand(right, (inner, idx[1])))


register(OpSpec(
    "matmul", 2, PRODUCT, text=infix_text(" "), latex=infix_text(" "), shape=_matmul_shape,
    evaluate=lambda B, node, x, y: x @ y, lower=_matmul_lower,
    scalar=lambda S, node, x, y: x * y, sympy_matrix=lambda S, node, a: S.product(node, a),
    code=lambda g, node, a: g.chain(node),
    flags=frozenset({"bilinear", "associative", "scalar_context", "expands"}),
    differential=bilinear("d(U V) = dU V + U dV"), source="definition", example="A B x"))


def _div_shape(ctx, node, types):
    if not types[1].is_scalar:
        ctx.fail(f"can only divide by a scalar, not by {ctx.describe(types[1])}", node,
                 hint="use ./ for elementwise division")
    return types[0]


def _div_lower(L, node, idx):
    """M/s = M s^-1; an s identically 0 has no reciprocal (0/0 is not 0, whatever M)."""
    numerator, denominator = node.args
    if L.vanishes(denominator):
        raise UnsupportedError(f"`{denominator}` is identically 0, so `{node}` divides by "
                               "zero: it has no value and no derivative")
    reciprocal = L.build.apply("power", denominator, L.build.num(-1))
    return L.times(L.lower(numerator, idx), L.lower(reciprocal, (None, None)))


def _div_differential(D, node, dargs):
    """d(U/s) = dU/s - ds U/s^2."""
    (u, s), (du, ds) = node.args, dargs
    terms = [] if du is None else [D.build.apply("div", du, s)]
    if ds is not None:
        square = D.build.apply("power", s, D.build.num(2))
        terms.append(D.build.negate(D.build.apply("mul", ds, D.build.apply("div", u, square))))
    return D.total(terms)


def _divide_code(g, node, a):
    top, bottom = a
    top_code = g.numeric(top) if top.pyfloat and bottom.pyfloat else top.code
    return f"{top_code} / {bottom.code}"


register(OpSpec(
    "div", 2, PRODUCT, text=infix_text("/"),
    latex=lambda p, node: f"\\frac{{{p.arg(node.args[0], 0)}}}{{{p.arg(node.args[1], 0)}}}",
    shape=_div_shape, evaluate=lambda B, node, x, y: x / y, lower=_div_lower,
    scalar=lambda S, node, x, y: x / y, sympy_matrix=lambda S, node, a: S.divide(node, a),
    code=_divide_code,
    domains=("real", "nonzero"), flags=frozenset({"linear-in-first", "scalar_context"}),
    differential=Differential(_div_differential, "quotient rule", "d(U/s) = dU/s - ds U/s^2"),
    source="definition", example="x / α"))


def _elementwise_pair_shape(verb):
    def shape(ctx, node, types):
        left, right = types
        if left.is_scalar or right.is_scalar:
            return right if left.is_scalar else left
        if not ctx.unify_shapes(left, right):
            ctx.fail(f"cannot {verb} {ctx.describe(left)} and {ctx.describe(right)}: "
                     "elementwise operands need the same shape", node)
        return left
    return shape


def _hadamard_lower(L, node, idx):
    """(A ⊙ B)_ij = δ_iab δ_jcd A_ac B_bd: copy tensors keep each index at most twice."""
    left, right = node.args
    if left.ty.is_scalar or right.ty.is_scalar:
        return _mul_lower(L, node, idx)
    return L.entrywise([lambda i: L.operand(left, i), lambda i: L.operand(right, i)],
                       node.ty, idx)


register(OpSpec(
    "hadamard", 2, PRODUCT, text=infix_text(" ⊙ "), latex=infix_text(r" \odot "),
    shape=_elementwise_pair_shape("multiply elementwise"),
    evaluate=lambda B, node, x, y: x * y, lower=_hadamard_lower,
    scalar=lambda S, node, x, y: x * y, sympy_matrix=lambda S, node, a: S.hadamard(node, a),
    code=lambda g, node, a: f"{a[0].code} * {a[1].code}",
    flags=frozenset({"bilinear", "commutative", "associative", "elementwise", "expands",
                     "number_code"}),
    differential=bilinear("d(U ⊙ V) = dU ⊙ V + U ⊙ dV", "Hadamard product rule"),
    source=f"{COOKBOOK}, section 9.5", example="A ⊙ B"))


def _ediv_differential(D, node, dargs):
    """d(U ./ V) = dU ./ V - U ⊙ dV ./ (V ⊙ V)."""
    (u, v), (du, dv) = node.args, dargs
    terms = [] if du is None else [D.build.apply("ediv", du, v)]
    if dv is not None:
        squared = D.build.apply("hadamard", v, v)
        quotient = D.build.apply("ediv", D.build.apply("hadamard", u, dv), squared)
        terms.append(D.build.negate(quotient))
    return D.total(terms)


def _ediv_lower(L, node, idx):
    left, right = node.args
    return _hadamard_lower(L, L.build.apply("hadamard", left, L.build.reciprocal(right)), idx)


register(OpSpec(
    "ediv", 2, PRODUCT, text=infix_text(" ./ "), latex=infix_text(r" \oslash "),
    shape=_elementwise_pair_shape("divide elementwise"),
    evaluate=lambda B, node, x, y: x / y, lower=_ediv_lower,
    scalar=lambda S, node, x, y: x / y, sympy_matrix=lambda S, node, a: S.ediv(node, a),
    code=_divide_code,
    domains=("real", "nonzero"), flags=frozenset({"elementwise", "linear-in-first"}),
    differential=Differential(_ediv_differential, "elementwise quotient rule",
                              "d(U ./ V) = dU ./ V - U ⊙ dV ./ (V ⊙ V)"),
    source="definition", example="A ./ B"))


# -- transpose ------------------------------------------------------------------------------

register(OpSpec(
    "transpose", 1, POSTFIX, text=postfix_text("^T"), latex=postfix_text(r"^{\top}"),
    shape=lambda ctx, node, types: types[0].transposed(),
    evaluate=lambda B, node, x: B.transpose(x),
    lower=lambda L, node, idx: L.lower(node.args[0], (idx[1], idx[0])),
    # a row vector is stored as the transpose of a column: d(M^T) = (dM)^T, the indices
    # swapped, without lowering M^T again
    derivative=lambda d, node, idx: d.of(node.args[0], (idx[1], idx[0])),
    title="transpose", rule="d(M^T) = (dM)^T",
    scalar=lambda S, node, a: a,
    sympy_matrix=lambda S, node, a: S.on_scalar(node, a, S.Transpose),
    code=lambda g, node, a: f"{a[0].code}.T" if a[0].kind == "matrix" else a[0].raw,
    flags=frozenset({"linear", "involution", "expands", "number_code"}), source="definition",
    differential=linear("d(U^T) = dU^T", "transpose"), example="A^T x"))
