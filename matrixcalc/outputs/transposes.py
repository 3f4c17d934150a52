"""Which parts of generated code are transposes of each other.

A backward pass often needs a matrix and its transpose: the gradient by K of attention
holds dS^T where the gradient by Q holds dS, written apart because the simplifier pushes
transposes onto symbols (V G^T, P^T ⊙ …). Generated code computes the one and takes the
other as `.T`. The transposed form is found by the simplifier itself: the canonical form of
(M)^T is what the simplifier wrote where M^T occurs, so a structural match is exact.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import MatrixCalcError
from ..language import build
from ..language.expr import Apply, Expr, distinct_nodes

# the operators whose results are worth sharing as transposes (a symbol's transpose is
# free already); at most this many candidates are simplified, none larger than
# MAX_CANDIDATE nodes as printed, so that code generation for a very large expression
# stays linear (the Hessian of softmax nested 20 deep spent 11 s simplifying the
# transposes of its nested parts, 32 deep 23 s)
SHARED_OPS = frozenset({"matmul", "hadamard", "add", "neg", "mul", "ediv"})
MAX_CANDIDATES = 400
MAX_CANDIDATE = 2000


def transposed_partners(outputs: Iterable[Expr], key) -> dict:
    """{key(M): N} (and {key(N): M}) for the largest matrices M of the outputs whose
    transpose N = M^T (canonical) occurs in them too (N's key differs from M's: ones
    ones^T is its own transpose); parts of a pair are left alone, as computing M computes
    them and N is taken as M's transpose."""
    from ..rewrite.simplify import simplify_tree
    nodes: dict = {}
    for out in outputs:
        for node in distinct_nodes(out):
            if isinstance(node, Apply) and node.op in SHARED_OPS and node.ty is not None \
                    and node.ty.kind == "matrix" and node.size() <= MAX_CANDIDATE:
                nodes.setdefault(key(node), node)
    if len(nodes) > MAX_CANDIDATES:
        return {}
    partners: dict = {}
    covered: set = set()  # inside a pair already: computed with it, or taken with its .T
    for k in sorted(nodes, key=lambda k: -nodes[k].size()):
        if k in covered or k in partners:
            continue
        try:
            transposed = simplify_tree(build.apply("transpose", nodes[k]))
        except MatrixCalcError:  # pragma: no cover - a transpose always has a form
            continue
        other = key(transposed)
        if other == k or other not in nodes or other in covered:
            continue
        partners[k], partners[other] = nodes[other], nodes[k]
        for root in (nodes[k], nodes[other]):
            covered.update(key(n) for n in distinct_nodes(root) if n is not root)
    return partners
