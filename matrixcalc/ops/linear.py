"""Linear and structural operators: sums, products, transpose, trace, sum, vec, diag,
Kronecker products and bracket literals. One block per operator."""

from __future__ import annotations

from ..expr import Apply, Dimension, Number, Symbol, walk
from ..shapes import ONE, SCALAR, Shape, normalize
from .spec import (ATOM, POSTFIX, PREFIX, PRODUCT, SUM, OpSpec, call_latex, call_text,
                   infix_text, postfix_text, register)

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


register(OpSpec(
    "add", None, SUM, text=_add_text, latex=_add_text, shape=_add_shape,
    evaluate=lambda B, node, *xs: B.add(xs),
    flags=frozenset({"linear", "commutative", "associative"}), source="definition"))

register(OpSpec(
    "neg", 1, PREFIX,
    text=lambda p, node: f"-{p.arg(node.args[0], PREFIX)}",
    latex=lambda p, node: f"-{p.arg(node.args[0], PREFIX)}",
    shape=lambda ctx, node, types: types[0],
    evaluate=lambda B, node, x: -x,
    flags=frozenset({"linear"}), source="definition"))


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


register(OpSpec(
    "mul", 2, PRODUCT, text=infix_text(" "), latex=infix_text(" "), shape=_mul_shape,
    evaluate=lambda B, node, x, y: x * y,
    flags=frozenset({"bilinear", "commutative"}), source="definition"))


def _matmul_shape(ctx, node, types):
    left, right = types
    if not ctx.unify(left.cols, right.rows):
        hint = None
        if left.kind == "vector" and right.kind in ("vector", "matrix"):
            hint = "for an inner product write x^T y; to scale, declare the factor a scalar"
        ctx.fail(f"cannot multiply {ctx.describe(left)} by {ctx.describe(right)}: "
                 "the inner dimensions differ", node, hint=hint)
    return Shape(left.rows, right.cols)


register(OpSpec(
    "matmul", 2, PRODUCT, text=infix_text(" "), latex=infix_text(" "), shape=_matmul_shape,
    evaluate=lambda B, node, x, y: x @ y,
    flags=frozenset({"bilinear", "associative", "scalar_context"}), source="definition"))


def _div_shape(ctx, node, types):
    if not types[1].is_scalar:
        ctx.fail(f"can only divide by a scalar, not by {ctx.describe(types[1])}", node,
                 hint="use ./ for elementwise division")
    return types[0]


register(OpSpec(
    "div", 2, PRODUCT, text=infix_text("/"),
    latex=lambda p, node: f"\\frac{{{p.arg(node.args[0], 0)}}}{{{p.arg(node.args[1], 0)}}}",
    shape=_div_shape, evaluate=lambda B, node, x, y: x / y,
    domains=("real", "nonzero"), flags=frozenset({"linear-in-first", "scalar_context"}),
    source="definition"))


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


register(OpSpec(
    "hadamard", 2, PRODUCT, text=infix_text(" ⊙ "), latex=infix_text(r" \odot "),
    shape=_elementwise_pair_shape("multiply elementwise"),
    evaluate=lambda B, node, x, y: x * y,
    flags=frozenset({"bilinear", "commutative", "associative", "elementwise"}),
    source=f"{COOKBOOK}, section 9.5"))

register(OpSpec(
    "ediv", 2, PRODUCT, text=infix_text(" ./ "), latex=infix_text(r" \oslash "),
    shape=_elementwise_pair_shape("divide elementwise"),
    evaluate=lambda B, node, x, y: x / y,
    domains=("real", "nonzero"), flags=frozenset({"elementwise", "linear-in-first"}),
    source="definition"))


def _kron_shape(ctx, node, types):
    left, right = (ctx.resolve(t) for t in types)
    return Shape(normalize(left.rows + right.rows), normalize(left.cols + right.cols))


register(OpSpec(
    "kron", 2, PRODUCT, text=infix_text(" ⊗ "), latex=infix_text(r" \otimes "),
    shape=_kron_shape, evaluate=lambda B, node, x, y: B.kron(x, y),
    call_names=("kron",), flags=frozenset({"bilinear", "associative"}),
    source=f"{COOKBOOK}, section 10.2"))


# -- transpose, trace, sum, vec, diag ------------------------------------------------------

register(OpSpec(
    "transpose", 1, POSTFIX, text=postfix_text("^T"), latex=postfix_text(r"^{\top}"),
    shape=lambda ctx, node, types: types[0].transposed(),
    evaluate=lambda B, node, x: B.transpose(x),
    flags=frozenset({"linear", "involution"}), source="definition"))


def _square(ctx, node, ty, what):
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


def _trace_shape(ctx, node, types):
    if not types[0].is_scalar:
        _square(ctx, node, types[0], "tr")
    return SCALAR


register(OpSpec(
    "tr", 1, ATOM, text=call_text("tr"), latex=call_latex(r"\operatorname{tr}"),
    shape=_trace_shape, evaluate=lambda B, node, x: B.trace(x), call_names=("tr",),
    flags=frozenset({"linear"}), source=f"{COOKBOOK}, section 1.1"))

register(OpSpec(
    "sum", 1, ATOM, text=call_text("sum"), latex=call_latex(r"\operatorname{sum}"),
    shape=lambda ctx, node, types: SCALAR,
    evaluate=lambda B, node, x: x.sum().reshape(1, 1), call_names=("sum",),
    flags=frozenset({"linear"}), source="sum of all entries"))

register(OpSpec(
    "mean", 1, ATOM, text=call_text("mean"), latex=call_latex(r"\operatorname{mean}"),
    shape=lambda ctx, node, types: SCALAR,
    evaluate=lambda B, node, x: x.mean().reshape(1, 1), call_names=("mean",),
    flags=frozenset({"linear"}), source="mean of all entries"))


def _vec_shape(ctx, node, types):
    ty = ctx.resolve(types[0])
    return Shape(normalize(ty.rows + ty.cols), ONE)


register(OpSpec(
    "vec", 1, ATOM, text=call_text("vec"), latex=call_latex(r"\operatorname{vec}"),
    shape=_vec_shape, evaluate=lambda B, node, x: B.vec(x), call_names=("vec",),
    flags=frozenset({"linear"}), source=f"{COOKBOOK}, section 10.2.2 (columns stacked)"))


def _diag_elaborate(ctx, node, types):
    kind = types[0].kind
    if kind == "vector":
        return Apply("diag_matrix", node.args, span=node.span)
    if kind == "matrix":
        return Apply("diag_vector", node.args, span=node.span)
    ctx.fail(f"diag takes a vector or a square matrix, not {ctx.describe(types[0])}", node)


register(OpSpec(
    "diag", 1, ATOM, call_names=("diag",), elaborate=_diag_elaborate, syntax_only=True,
    source="diag(v) is a diagonal matrix, diag(X) the diagonal of X"))


def _diag_matrix_shape(ctx, node, types):
    return Shape(types[0].rows, types[0].rows)


register(OpSpec(
    "diag_matrix", 1, ATOM, text=call_text("diag"), latex=call_latex(r"\operatorname{diag}"),
    shape=_diag_matrix_shape, evaluate=lambda B, node, v: B.diag_matrix(v),
    flags=frozenset({"linear"}), source="the diagonal matrix with v on its diagonal"))


def _diag_vector_shape(ctx, node, types):
    _square(ctx, node, types[0], "diag")
    return Shape(types[0].rows, ONE)


register(OpSpec(
    "diag_vector", 1, ATOM, text=call_text("diag"), latex=call_latex(r"\operatorname{diag}"),
    shape=_diag_vector_shape, evaluate=lambda B, node, x: B.diag_vector(x),
    flags=frozenset({"linear"}), source="the diagonal of a square matrix, as a vector"))


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


register(OpSpec(
    "commutation", 2, ATOM, text=call_text("commutation"), latex=lambda p, node: (
        f"K_{{{p.arg(node.args[0], 0)},{p.arg(node.args[1], 0)}}}"),
    shape=_commutation_shape, evaluate=lambda B, node, m, n: B.commutation(m, n),
    call_names=("commutation",), flags=frozenset({"scalar_context"}),
    source="Magnus & Neudecker (1979): K vec(A) = vec(A^T) for A m×n; "
           "∂vec(X^T)/∂vec(X) = K"))


def _unvec_shape(ctx, node, types):
    v = types[0]
    m, n = (dimension_of(ctx, node, a) for a in node.args[1:])
    if v.kind not in ("vector", "scalar") or not ctx.unify(v.rows, normalize(m + n)):
        ctx.fail(f"unvec(v, m, n) takes a vector of m·n entries, not {ctx.describe(v)}", node)
    return Shape(m, n)


register(OpSpec(
    "unvec", 3, ATOM, text=call_text("unvec"),
    latex=lambda p, node: f"\\operatorname{{vec}}^{{-1}}\\left({p.arg(node.args[0], 0)}\\right)",
    shape=_unvec_shape, evaluate=lambda B, node, v, m, n: B.unvec(v, m, n),
    call_names=("unvec",), flags=frozenset({"linear-in-first", "scalar_context"}),
    source="the inverse of vec: the m×n matrix whose columns, stacked, are v"))


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


register(OpSpec(
    "bracket", None, ATOM, text=_bracket_text, latex=_bracket_latex, shape=_bracket_shape,
    evaluate=lambda B, node, *xs: B.grid(xs, *node.attrs),
    flags=frozenset({"linear", "scalar_context"}),
    source="a matrix of scalar entries, rows split by ;"))
