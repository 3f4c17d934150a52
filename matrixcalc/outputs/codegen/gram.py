"""Weighted Gram products in generated numpy code: M^T diag(v) M (and M diag(v) M^T, the
Gram matrix of M^T) is symmetric, so a symmetric rank-k product (BLAS syrk) computes it
with half the multiplications of a general product. The helper decides at run time, from
the values, whether syrk applies. The unweighted M^T M stays `M.T @ M`: numpy's matmul
already calls syrk when its operands are one array and its transpose (measured equal to
an explicit syrk at (4096, 512))."""

from __future__ import annotations

from ...language.expr import Apply, Expr

GRAM = '''def _mc_gram(a, w):
    # a.T @ diag(w) @ a by BLAS syrk on the rows of a scaled by sqrt(w): one triangle's
    # multiplications, mirrored. The rows are scaled in chunks (no scaled copy of all of
    # a), each added by one syrk call. The plain product where syrk does not apply: a
    # weight < 0 or NaN (one pass over w), complex or integer data, small sizes, no scipy.
    dtype = np.result_type(a, w)
    if (a.ndim != 2 or dtype not in (np.float32, np.float64) or a.shape[1] < 32
            or a.shape[0] * a.shape[1] ** 2 < 2 ** 21 or w.shape != a.shape[:1]
            or not (w >= 0).all()):
        return a.T @ (w[:, None] * a)
    try:
        from scipy.linalg import blas
    except ImportError:
        return a.T @ (w[:, None] * a)
    syrk = blas.dsyrk if dtype == np.float64 else blas.ssyrk
    rows, cols = a.shape
    # chunks of about 8 MB: few syrk calls, as each makes BLAS's threads meet (on a busy
    # machine 1 MB chunks measured 2.5x slower; alone, 1 to 16 MB measure alike); rows
    # enough that updating out is small next to the multiplications of a chunk
    chunk = max(2 ** 23 // (cols * dtype.itemsize), cols // 4)
    roots = np.sqrt(w.astype(dtype, copy=False))
    scaled = np.empty((min(chunk, rows), cols), dtype)
    out = np.zeros((cols, cols), dtype, order="F")
    for start in range(0, rows, chunk):
        block = scaled[:min(chunk, rows - start)]
        np.multiply(roots[start:start + chunk, None], a[start:start + chunk], out=block)
        out = syrk(1.0, block.T, beta=1.0, c=out, trans=0, overwrite_c=1)
    return _mc_mirror(out)


def _mc_mirror(upper, tile=64):
    # the upper triangle copied to the lower (zeros), tile by tile (in cache): the
    # symmetric matrix, returned C-ordered as a product's result is
    size = upper.shape[0]
    for i in range(0, size, tile):
        square = upper[i:i + tile, i:i + tile]
        square += np.triu(square, 1).T
        for j in range(i + tile, size, tile):
            upper[j:j + tile, i:i + tile] = upper[i:i + tile, j:j + tile].T
    return upper.T
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
