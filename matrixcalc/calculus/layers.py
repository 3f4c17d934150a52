"""Hessians of deep compositions, level by level, by the second-order chain rule.

For f = F(u), u = g(x) a vector (or scalar) that holds every occurrence of x,

    ∇²f = J^T ∇²F J + Σ_i (∇F)_i ∇²g_i,    J = ∂g/∂x,

and Σ_i w_i ∇²g_i is the Hessian of w^T g(x) with w held fixed. Cut at every vector or
scalar on the way from x to the root, f is a composition of levels u_j = g_j(u_{j-1}),
and the rule, applied from the root down, needs of each level only its own Jacobian and
the Hessian of one fixed direction against it (w_j, the gradient of the levels above,
itself one Jacobian-transpose product a level):

    H_m = ∇²F,   H_{j-1} = J_j^T H_j J_j + ∇²(W^T g_j) |_{W = w_j},   w_{j-1} = J_j^T w_j.

Each level is derived with the levels around it held as symbols (u_j, w_j, H_j), so its
cost does not grow with the depth, and the symbols are put back once at the end, each
shared node once. The Jacobian of the gradient in index form instead differentiates a
product of k folded Jacobians: each one's derivative is a tensor of order 3, which does
not fold (softmax nested 32 deep: 135,000 nodes built, over the default limit).

A Hessian-vector product carries the direction forward through the levels, t_j = J_j
t_{j-1}, and H v back, H_{j-1} t_{j-1} = J_j^T (H_j t_j) + ∇²(w_j^T g_j) t_{j-1},
without forming H.

Both are used where a composition has LAYERED_LEVELS levels or more whose Jacobians are
dense (a vector function that is neither linear nor elementwise, such as softmax);
elementwise and linear levels keep the index form, whose diagonal Jacobians merge
(diag(a) diag(b) = diag(a ⊙ b)) into a smaller result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import UnsupportedError
from ..language import build
from ..language.expr import (
    ENGINE_NAMES,
    Apply,
    Expr,
    Symbol,
    SymbolInfo,
    names_in,
    put_back,
)
from ..language.shapes import Shape
from ..ops.spec import lookup
from ..rewrite.simplify import simplify_tree

LAYERED_LEVELS = 2  # dense levels from which the Hessian is taken level by level

Derivative = Callable[..., Expr]  # derive._derivative(f, x, fold_terms=...)


@dataclass
class _Levels:
    """f cut at every vector or scalar around x: u_j = g_j(u_{j-1}) (u_0 = x), and the
    top F(u_m) = f; `held` maps each engine symbol to what it stands for."""

    us: list[Expr]
    gs: list[Expr]
    top: Expr
    held: dict[str, Expr]


def _levels(f: Expr, x: Symbol) -> _Levels | None:
    """f's levels around x; None where it has fewer than LAYERED_LEVELS dense ones (or x
    is a matrix)."""
    if x.ty.kind not in ("vector", "scalar"):
        return None
    path = _path(f, x.name)
    cuts = [n for n in path[1:] if n is not x and n.ty.kind in ("vector", "scalar")]
    if sum(_dense(n, x.name) for n in cuts) < LAYERED_LEVELS:
        return None
    cuts.reverse()  # innermost first: u_1 = g_1(x), …, u_m
    held: dict[str, Expr] = {}
    us = [x] + [_symbol(f"u{j}", c.ty, held) for j, c in enumerate(cuts, 1)]
    gs = [_cut(c, inner, u, path) for c, inner, u in zip(cuts, [x] + cuts[:-1], us)]
    for u, g in zip(us[1:], gs):
        held[u.name] = g
    return _Levels(us, gs, _cut(f, cuts[-1], us[-1], path), held)


def layered_hessian(f: Expr, x: Symbol, derivative: Derivative, fold_terms: int,
                    across: int) -> Expr | None:
    """The Hessian of the scalar f by the vector or scalar x, level by level; None where
    f has fewer than LAYERED_LEVELS dense levels around x. `derivative` is the engine's
    (derive._derivative), `fold_terms` its threshold for the second derivatives, and a
    result of at most `across` printed nodes is simplified once more across the levels."""
    levels = _levels(f, x)
    if levels is None:
        return None
    try:
        return _hessian(levels, derivative, fold_terms, across)
    except UnsupportedError:  # a level without a matrix form: the whole may have one
        return None


def _hessian(levels: _Levels, derivative: Derivative, fold_terms: int, across: int) -> Expr:
    us, held = levels.us, levels.held
    w = derivative(levels.top, us[-1])
    h = derivative(w, us[-1], fold_terms=fold_terms)
    for j in range(len(levels.gs), 0, -1):
        g, u = levels.gs[j - 1], us[j - 1]
        jacobian = _jacobian(g, u, derivative)
        w, curvature = _level(g, u, j, w, jacobian, held, derivative, fold_terms)
        h_sym = _symbol(f"h{j}", h.ty, held, h)
        outer = build.chain([build.transposed(jacobian), h_sym, jacobian])
        h = simplify_tree(build.total([outer, curvature], curvature.ty))
    return _finished(h, held, across)


def layered_hvp(f: Expr, x: Symbol, v: Expr, derivative: Derivative, fold_terms: int,
                across: int) -> Expr | None:
    """H v for the scalar f and a direction v shaped like x, level by level without
    forming H: the direction carried forward (t_j = J_j t_{j-1}, t_0 = v) and
    H_{j-1} t_{j-1} = J_j^T (H_j t_j) + ∇²(w_j^T g_j) t_{j-1} back; None as for
    `layered_hessian`."""
    levels = _levels(f, x)
    if levels is None:
        return None
    try:
        return _hvp(levels, v, derivative, fold_terms, across)
    except UnsupportedError:
        return None


def _hvp(levels: _Levels, v: Expr, derivative: Derivative, fold_terms: int,
         across: int) -> Expr:
    us, held = levels.us, levels.held
    jacobians = [_jacobian(g, u, derivative) for g, u in zip(levels.gs, us)]
    ts = [v]  # t_0 = v; t_j held as a symbol
    for j, jacobian in enumerate(jacobians, 1):
        t = simplify_tree(build.product(jacobian, ts[-1]))
        ts.append(_symbol(f"t{j}", t.ty, held, t))
    w = derivative(levels.top, us[-1])
    hv = _times(derivative(w, us[-1], fold_terms=fold_terms), ts[-1])
    for j in range(len(levels.gs), 0, -1):
        g, u, jacobian = levels.gs[j - 1], us[j - 1], jacobians[j - 1]
        w, curvature = _level(g, u, j, w, jacobian, held, derivative, fold_terms)
        hv_sym = _symbol(f"hv{j}", hv.ty, held, hv)
        back = build.product(build.transposed(jacobian), hv_sym)
        hv = simplify_tree(build.total([back, _times(curvature, ts[j - 1])], back.ty))
    return _finished(hv, held, across)


def _jacobian(g: Expr, u: Expr, derivative) -> Expr:
    """∂g/∂u as the matrix whose rows follow g and columns u: a scalar's derivative by a
    vector is its gradient, the transpose of that row."""
    d = derivative(g, u)
    return build.transposed(d) if g.ty.is_scalar and not u.ty.is_scalar else d


def _level(g: Expr, u: Expr, j: int, w: Expr, jacobian: Expr, held: dict, derivative,
           fold_terms: int) -> tuple[Expr, Expr]:
    """Level j's gradient passed down, w_{j-1} = J^T w_j, and its curvature
    ∇²(w_j^T g_j), w_j held as a symbol."""
    w_sym = _symbol(f"w{j}", g.ty, held, w)
    # J^T w as a product, w written once: the gradient's own form (s ⊙ w - s s^T w for
    # softmax) writes it twice, and the levels below would print 2^k copies of it
    gradient = simplify_tree(build.product(build.transposed(jacobian), w_sym))
    pairing = build.apply("matmul", build.transposed(w_sym), g) if not g.ty.is_scalar \
        else build.product(w_sym, g)
    return gradient, derivative(derivative(pairing, u), u, fold_terms=fold_terms)


def _times(matrix: Expr, direction: Expr) -> Expr:
    """A Hessian times a direction, simplified."""
    return simplify_tree(build.product(matrix, direction))


def _finished(e: Expr, held: dict[str, Expr], across: int) -> Expr:
    """e with the levels' symbols put back; simplified once more across the levels where
    it has at most `across` nodes as printed."""
    result = put_back(e, held, {}, [])
    return simplify_tree(result) if _small(result, across) else result


def _path(f: Expr, name: str) -> list[Expr]:
    """The nodes from f down to the smallest subtree that holds every occurrence of the
    symbol `name` (x itself where it occurs once)."""
    path = [f]
    while isinstance(path[-1], Apply):
        holding = [a for a in path[-1].args if name in names_in(a)]
        if len(holding) != 1:
            break
        path.append(holding[0])
    return path


def _dense(node: Expr, name: str) -> bool:
    """Whether a level's Jacobian is a dense matrix: a vector function of a vector that
    is neither linear nor elementwise (softmax)."""
    if not (isinstance(node, Apply) and node.ty.kind == "vector"):
        return False
    flags = lookup(node.op).flags
    if flags & {"linear", "bilinear", "linear-in-first", "elementwise"}:
        return False
    return all(a.ty.kind == "vector" for a in node.args if name in names_in(a))


def _cut(top: Expr, inner: Expr, symbol: Expr, path: list[Expr]) -> Expr:
    """`top` with its subtree `inner` (both on the path) replaced by `symbol`: the nodes
    between them rebuilt. The innermost level keeps x itself (symbol is inner)."""
    if symbol is inner:
        return top
    at = {id(node): i for i, node in enumerate(path)}
    start, stop = at[id(top)], at[id(inner)]
    result = symbol
    for node, child in zip(reversed(path[start:stop]), reversed(path[start + 1:stop + 1])):
        result = replace(node, args=tuple(result if a is child else a for a in node.args))
    return result


def _symbol(name: str, ty: Shape, held: dict, value: Expr | None = None) -> Symbol:
    """A symbol of the engine's own (no name a user can write) standing for a level's
    value, gradient or Hessian; `value`, where given, is what it stands for."""
    full = f"{ENGINE_NAMES}{name}"
    if value is not None:
        held[full] = value
    return Symbol(full, info=SymbolInfo(full, ty.kind, ty.rows, ty.cols), ty=ty)


def _small(e: Expr, limit: int) -> bool:
    """Whether e has at most `limit` nodes as printed (counted without walking more)."""
    count, stack = 0, [e]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, Apply):
            stack.extend(node.args)
    return count <= limit
