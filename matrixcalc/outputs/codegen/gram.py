"""Weighted Gram products in generated numpy code: M^T diag(v) M (and M diag(v) M^T, the
Gram matrix of M^T) is symmetric, so a symmetric rank-k product (BLAS syrk) computes it
with half the multiplications of a general product. The helper decides at run time, from
the values, whether the weights have square roots. The unweighted M^T M stays `M.T @ M`:
numpy's matmul calls syrk itself when its operands are one array and its transpose."""

from __future__ import annotations

from ...language.expr import Apply, Expr

GRAM = '''def _mc_gram(a, w):
    # a.T @ diag(w) @ a as s.T @ s, s the rows of a scaled by sqrt(w): numpy's matmul sees
    # one array times its own transpose and calls BLAS syrk (one triangle's multiplications,
    # mirrored). numpy's own BLAS, not SciPy's: a second BLAS's threads measured 2-3x
    # slower right after numpy's had worked (X w comes first). The plain product where a
    # weight is < 0 or NaN (one pass over w), or for complex or integer data.
    if (a.ndim != 2 or w.shape != a.shape[:1]
            or np.result_type(a, w) not in (np.float32, np.float64) or not (w >= 0).all()):
        return a.T @ (w[:, None] * a)
    scaled = np.sqrt(w)[:, None] * a
    return scaled.T @ scaled
'''


def gram_parts(factors: list[Expr]) -> tuple[Expr, Expr] | None:
    """(G, v) where the factors are G^T diag(v) G, G a matrix (G is M^T itself for
    M diag(v) M^T)."""
    if len(factors) != 3 or any(f.ty.kind != "matrix" for f in factors):
        return None
    first, middle, last = factors
    if not (_transpose_of(first, last) or _transpose_of(last, first)):
        return None
    if isinstance(middle, Apply) and middle.op == "diag_matrix":
        return last, middle.args[0]
    return None


def _transpose_of(node: Expr, other: Expr) -> bool:
    return isinstance(node, Apply) and node.op == "transpose" and node.args[0] == other
