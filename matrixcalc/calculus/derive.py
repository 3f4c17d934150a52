"""derive, jacobian, hessian and simplify: the engine's public face (SPEC sections 3, 5).

derive lowers the expression to index form, differentiates there, contracts deltas,
recovers a matrix form, simplifies it and re-types it against the original symbols.
Invariant: a result's shape is the layout of SPEC section 3 (checked, never assumed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import sympy

from ..errors import UnsupportedError, UsageError
from ..guard import public
from ..index.contract import contract
from ..index.ir import Factor, IndexSupply, Term, multiply, pair
from ..index.lower import expand, expansion_limit, lower
from ..index.recover import NoMatrixForm, recover
from ..language import build
from ..language.expr import (
    Apply,
    Const,
    Derivation,
    Expr,
    Number,
    Symbol,
    SymbolInfo,
    distinct_nodes,
    untyped,
    walk,
    with_infos,
)
from ..language.infer import infer
from ..language.parse import as_expr, wrt_symbol
from ..language.shapes import ONE, Shape, normalize
from ..rewrite.simplify import canonical_input, simplify_tree
from .diff import FOLD_TERMS, Differentiator, depends_on
from .layers import layered_hessian
from .tensor import TensorResult

LAYOUTS = ("numerator", "denominator")
# The Hessian's inner derivatives are folded into their matrix forms from two terms on: the
# gradient is a sum of products, and its factors' derivatives, multiplied out, gave the
# Hessian of softmax nested 4 deep 700 index terms (a node limit at 6 deep).
HESSIAN_FOLD_TERMS = 1
ACROSS_FOLDS = 2000  # printed nodes: a folded result this small is simplified once more
ROW, COL, WRT_ROW, WRT_COL = "i", "j", "k", "l"


def _known(e: Expr, x: Symbol) -> dict[str, SymbolInfo]:
    known = dict(e.shapes)
    if x.info is not None:
        known.setdefault(x.name, x.info)
    return known


def retype(e: Expr, known: dict[str, SymbolInfo], expected: Shape | None = None) -> Expr:
    """Infer shapes afresh for an engine-built tree, keeping the symbols' dimensions."""
    if expected is not None and build.is_zero(e):
        return build.zero(expected)  # a zero takes the shape it stands for
    typed = _informed(e, known) if _settled(e, known) else inferred(e, known)
    if expected is not None and typed.ty.kind == expected.kind and typed.ty != expected:
        typed = _pin(e, typed, known, expected)
    return typed


def inferred(e: Expr, known: dict[str, SymbolInfo]) -> Expr:
    """e with its shapes inferred again from its symbols (`known`) and the I, ones and
    zeros whose dimensions the engine knows."""
    def strip(node: Expr) -> Expr:
        if isinstance(node, Apply):
            return replace(node, args=tuple(strip(a) for a in node.args), ty=None)
        if isinstance(node, (Const, Number)) and node.ty is not None \
                and not node.ty.is_scalar and not _has_unknown_dims(node):
            return node  # an identity, ones or zero whose dimensions the engine knows
        return replace(node, ty=None)

    names = {n.name for n in distinct_nodes(e) if isinstance(n, Symbol)}
    (typed,) = infer([strip(e)], {}, None, {k: v for k, v in known.items() if k in names})
    return typed


def _settled(e: Expr, known: dict[str, SymbolInfo]) -> bool:
    """Whether inference would give `e` back as it is: every node has a shape with named
    dimensions only, and every symbol its known kind and dimensions. Such a tree (most
    results) is not inferred again, which would cost a pass over every occurrence of
    every shared subtree."""
    for node in distinct_nodes(e):
        if node.ty is None or any(isinstance(a, str) and a.startswith("?")
                                  for a in node.ty.rows + node.ty.cols):
            return False
        if isinstance(node, Symbol):
            info = node.info or known.get(node.name)
            if info is None or known.get(node.name, info) != info or info.shape != node.ty:
                return False
    return True


def _informed(e: Expr, known: dict[str, SymbolInfo]) -> Expr:
    """A settled tree with its known facts given to the symbols the engine made without
    them (a size `n` read back from a scalar coefficient), each shared subtree once."""
    done: dict[int, Expr] = {}

    def inform(node: Expr) -> Expr:
        if id(node) not in done:
            if isinstance(node, Symbol) and node.info is None:
                done[id(node)] = replace(node, info=known[node.name])
            elif isinstance(node, Apply):
                args = tuple(inform(a) for a in node.args)
                same = all(x is y for x, y in zip(args, node.args))
                done[id(node)] = node if same else replace(node, args=args)
            else:
                done[id(node)] = node
        return done[id(node)]
    return inform(e)


def _free_sizes(e: Expr, shape: Shape) -> bool:
    """Whether `e`, as written, holds an `I` or `ones` whose size neither its symbols nor
    its shape fix: printed, it would read back with an arbitrary size (`sum(ones)`)."""
    if not any(isinstance(n, Const) for n in walk(e)):
        return False
    known = {n.name: n.info for n in walk(e) if isinstance(n, Symbol) and n.info is not None}
    (again,) = infer([untyped(e)], {}, None, known)
    fixed = set(shape.rows + shape.cols) | {d for info in known.values()
                                            for d in info.rows + info.cols}
    if again.ty.kind == shape.kind:
        fixed |= set(again.ty.rows + again.ty.cols)  # the result's shape, as read back
    return any(isinstance(n, Const) and not set(n.ty.rows + n.ty.cols) <= fixed
               for n in walk(again))


def _has_unknown_dims(e: Expr) -> bool:
    return any(isinstance(a, str) and a.startswith("?")
               for n in walk(e) for a in n.ty.rows + n.ty.cols)


def _pin(original: Expr, typed: Expr, known, expected: Shape) -> Expr:
    return replace(typed, ty=expected)


def _higher_order(f: Expr, x: Symbol, vec: bool):
    """Order 3 or 4 (or vec=True): index form, or the matrix ∂vec(F)/∂vec(X)."""
    if vec:
        return vec_derivative(f, x)
    f_idx = (ROW if f.ty.rows else None, COL if f.ty.cols else None)
    x_idx = (WRT_ROW if x.ty.rows else None, WRT_COL if x.ty.cols else None)
    free = tuple(i for i in f_idx + x_idx if i is not None)
    dims = {ROW: f.ty.rows, COL: f.ty.cols, WRT_ROW: x.ty.rows, WRT_COL: x.ty.cols}
    supply = IndexSupply(reserved={ROW, COL, WRT_ROW, WRT_COL})
    d = differentiator(x, tuple(i for i in x_idx if i), supply)
    terms = d.terms(lower(canonical_input(f), f_idx, supply))
    return TensorResult(tuple(d.unfold(list(_smallest_terms(terms, free, supply)))), free,
                        tuple(dims[i] for i in free), _knowing(f, x), x)


def _smallest_terms(terms, free, supply: IndexSupply) -> tuple:
    """The index form of a derivative with no matrix form: its factors simplified, and,
    where distributing composite factors ((I + I)_ik) makes it smaller, distributed."""
    contracted = contract(terms, free)
    simplified = [Term(t.coeff, tuple(f if f.is_structural else
                                      Factor(simplify_tree(f.expr), f.idx)
                                      for f in t.factors)) for t in contracted]
    simplified = [t for t in simplified if not _summed_to_zero(t)]
    variants = [contract(simplified, free)]
    expanded = expand(variants[0], supply, limit=expansion_limit(variants[0]))
    if expanded is not None:
        variants.append(contract(expanded, free))
    return tuple(min(variants, key=_index_size))


def _summed_to_zero(term: Term) -> bool:
    """Whether a factor summed along an index against ones alone (M_ab 1_b: M ones) is
    zero, as the rows of a centred matrix are: the term is then zero."""
    count = Counter(i for f in term.factors for i in f.idx)
    ones = {f.idx[0] for f in term.factors if f.is_copy and len(f.idx) == 1}
    for f in term.factors:
        if f.is_structural or len(f.idx) != 2:
            continue
        for at, i in enumerate(f.idx):
            if i in ones and count[i] == 2 and f.idx[1 - at] != i:
                m = f.expr if at == 1 else build.transposed(f.expr)
                if build.is_zero(simplify_tree(build.chain([m, build.ones(m.ty.cols)]))):
                    return True
    return False


def _index_size(terms) -> int:
    return sum(1 + sum(1 if f.is_structural else _size(f.expr) for f in t.factors)
               for t in terms)


def _knowing(f: Expr, x: Symbol) -> Expr:
    """f whose `shapes` also list x where x does not occur in f: a tensor result takes
    its symbols and the sizes of its values from f's, and a zero by x is shaped by x's
    own dimensions (SPEC section 5: d x/dQ evaluates from the values of x and Q)."""
    if x.name in f.shapes or x.info is None:
        return f
    symbols = tuple({**f.shapes, x.name: x.info}.values())
    return replace(f, derived_from=Derivation(f, (x,), "numerator", symbols))


def vec_derivative(f: Expr, x: Symbol) -> Expr:
    """∂vec(F)/∂vec(X): vec(F) lowered with its pair tensor (columns stacked), the
    derivative's indices for X joined into one by another, and the matrix recovered;
    ∂vec(A X B)/∂vec(X) = B^T ⊗ A (Matrix Cookbook (520))."""
    supply = IndexSupply(reserved={ROW, COL, WRT_ROW, WRT_COL})
    rows = ROW if not f.ty.is_scalar else None
    cols = COL if not x.ty.is_scalar else None
    flat = build.apply("vec", f) if f.ty.kind == "matrix" else f
    if flat.ty.kind == "row vector":
        flat = build.apply("transpose", flat)
    x_row, x_col = supply.fresh(), supply.fresh()
    x_idx = tuple(i for i, d in ((x_row, x.ty.rows), (x_col, x.ty.cols)) if d)
    d = differentiator(x, x_idx, supply)
    terms = d.terms(lower(canonical_input(flat), (rows, None), supply))
    if x.ty.kind == "matrix":  # vec(X)_c = X_kl with c = (l, k)
        terms = multiply(terms, [Term(sympy.Integer(1), (pair(cols, x_col, x_row, x.ty.cols,
                                                             x.ty.rows),))])
    elif cols is not None:
        terms = [t.renamed({x_row: cols}) for t in terms]
    shape = Shape(flat.ty.rows, normalize(x.ty.rows + x.ty.cols))
    try:
        form = d.unfold(closed_form(terms, (rows, cols), shape, supply))
    except NoMatrixForm as error:
        index = _higher_order(f, x, vec=False)
        index = index.index() if isinstance(index, TensorResult) else str(index)
        raise UnsupportedError(f"∂vec(F)/∂vec(X) has no matrix form here ({error}); "
                               f"in index notation it is {index}") from None
    return retype(form, _known(f, x), shape)


def _vec_of(g: Expr, f: Expr, x: Symbol) -> Expr:
    """The vec layout of an order ≤ 2 derivative: vec(G)^T for a scalar by a matrix,
    vec(G) for a matrix by a scalar, G itself otherwise."""
    if f.ty.is_scalar and x.ty.kind == "matrix":
        return retype(build.apply("transpose", build.apply("vec", g)), _known(f, x))
    if f.ty.kind == "matrix" and x.ty.is_scalar:
        return retype(build.apply("vec", g), _known(f, x))
    return g


def _order(f: Expr, x: Symbol) -> int:
    return sum(1 for d in (f.ty.rows, f.ty.cols, x.ty.rows, x.ty.cols) if d)


def _layout_indices(f: Expr, x: Symbol):
    f_idx = (ROW if f.ty.rows else None, COL if f.ty.cols else None)
    x_idx = (WRT_ROW if x.ty.rows else None, WRT_COL if x.ty.cols else None)
    present = [i for i in f_idx + x_idx if i is not None]
    dims = {ROW: f.ty.rows, COL: f.ty.cols, WRT_ROW: x.ty.rows, WRT_COL: x.ty.cols}
    if len(present) == 1 and present[0] == COL:
        out = (None, COL)
    else:
        out = (present + [None, None])[:2]
        out = (out[0], out[1])
    shape = Shape(dims[out[0]] if out[0] else ONE, dims[out[1]] if out[1] else ONE)
    return f_idx, tuple(i for i in x_idx if i), out, shape


def _derivative(f: Expr, x: Symbol, layout: str = "numerator", vec: bool = False,
                fold_terms: int = FOLD_TERMS):
    if _order(f, x) > 2 or (vec and f.ty.kind == "matrix" and not x.ty.is_scalar):
        if layout != "numerator":
            raise UnsupportedError("layout=\"denominator\" applies to Jacobians, not to "
                                   "tensors of order 3 or 4")
        return _higher_order(f, x, vec)
    if vec:
        return _vec_of(_derivative(f, x, layout), f, x)
    f_idx, x_idx, out, shape = _layout_indices(f, x)
    if not depends_on(f, x.name):
        result = build.zero(shape)
    else:
        result = _closed_form(canonical_input(f), x, f_idx, x_idx, out, shape, fold_terms)
    result = retype(result, _known(f, x), shape)
    if layout == "denominator" and not f.ty.is_scalar:
        result = retype(simplify_tree(build.apply("transpose", result)), _known(f, x))
    return result


def _closed_form(f: Expr, x: Symbol, f_idx, x_idx, out, shape,
                 fold_terms: int = FOLD_TERMS) -> Expr:
    """The derivative's matrix form: as derived, and with composite factors expanded so
    that like terms can cancel; the smaller of the two (as derived, on a tie)."""
    supply = IndexSupply(reserved={ROW, COL, WRT_ROW, WRT_COL})
    d = differentiator(x, x_idx, supply, fold_terms)
    return unfolded(d, closed_form(d.terms(lower(f, f_idx, supply)), out, shape, supply))


def unfolded(d: Differentiator, form: Expr) -> Expr:
    """A derivative's matrix form with its folded Jacobians put back. Each fold's form was
    simplified where it was made; a small result is simplified once more across them
    (W^T (s M) W is s W^T M W), a large one keeps its cost linear in the depth."""
    form = d.unfold(form)
    return simplify_tree(form) if d.folded and _size(form) <= ACROSS_FOLDS else form


def closed_form(terms, out, shape, supply: IndexSupply) -> Expr:
    """Index terms with free indices `out` as a simplified matrix form: recovered as they
    are and with composite factors expanded (so like terms can cancel); the smaller."""
    free = tuple(i for i in out if i is not None)
    contracted = contract(terms, free)
    variants = [contracted]
    expanded = expand(contracted, supply, limit=expansion_limit(contracted))
    if expanded is not None and expanded != contracted:  # nothing expanded: the same form
        variants.append(contract(expanded, free))
    forms, failure = [], None
    for variant in variants:
        try:
            forms.append(simplify_tree(recover(variant, out, shape)))
        except NoMatrixForm as error:  # a Kronecker factor may need its index form
            failure = failure or error
    if not forms:
        raise failure
    return min(forms, key=_size)


def _size(e: Expr) -> int:
    """Nodes as printed, not counting signs: `-1/n X^T (y - X w)` is as small as
    `1/n X^T (X w - y)`. Counted once per shared subtree (then multiplied by its
    occurrences), so that the count costs what the tree's distinct nodes do."""
    counts: dict[int, int] = {}

    def count(node: Expr) -> int:
        if id(node) not in counts:
            own = 0 if isinstance(node, Apply) and node.op == "neg" else 1
            counts[id(node)] = own + sum(count(a) for a in node.children())
        return counts[id(node)]
    return count(e)


def derivative_of_scalar(f: Expr, x: Symbol) -> Expr:
    """d f / d x for a scalar f (used for bracket-literal entries)."""
    return _derivative(f, x)


def differentiator(x: Symbol, x_idx: tuple[str, ...], supply: IndexSupply,
                   fold_terms: int = FOLD_TERMS) -> Differentiator:
    """The index-form differentiator by x, with the engine's closed form for the scalar
    entries of bracket literals and for the inner derivatives it folds."""
    def matrix_form(terms, out, shape: Shape) -> Expr:
        form = closed_form(terms, out, shape, supply)
        known = {n.name: n.info for n in distinct_nodes(form)
                 if isinstance(n, Symbol) and n.info}
        return retype(form, {**known, x.name: x.info} if x.info else known, shape)
    return Differentiator(x, x_idx, supply, scalar_derivative=derivative_of_scalar,
                          matrix_form=matrix_form, fold_terms=fold_terms)


STRUCTURED = {True: "cookbook", "cookbook": "cookbook", "sym": "sym"}


def variables(wrt: list | tuple) -> list:
    """A list `wrt` as given, refused when it names no variable or one twice (a
    derivative by x and x again is not what anyone means by a list of variables)."""
    if not wrt:
        raise UsageError("`wrt` is an empty list: name at least one variable",
                         hint='wrt="x", or wrt=["x", "y"] for several')
    seen: set = set()
    for w in wrt:
        name = w.name if isinstance(w, Symbol) else w.strip() if isinstance(w, str) else w
        if name in seen:
            raise UsageError(f"`{name}` is named twice in `wrt`",
                             hint="name each variable once")
        seen.add(name)
    return list(wrt)


@public
def derive(expr, wrt, where=None, layout: str = "numerator", vec: bool = False,
           structured: bool | str = False):
    """The derivative of `expr` with respect to `wrt` (a name, or a list: a tuple).
    `structured`: for a symmetric or diagonal matrix variable, "cookbook" (or True) or
    "sym" (see `_structured`); False gives the unstructured derivative."""
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout `{layout}`: use \"numerator\" or \"denominator\"")
    if structured is not False and structured not in STRUCTURED:
        raise UsageError(f"unknown structured convention {structured!r}: use \"cookbook\" "
                         "(or True) or \"sym\"")
    e = as_expr(expr, where)
    if isinstance(wrt, (list, tuple)):
        return Partials(derive(e, w, where, layout, vec, structured) for w in variables(wrt))
    x = wrt_symbol(e, wrt, where)
    if structured is not False:
        result = _structured(e, x, layout, STRUCTURED[structured])
    else:
        plain, px = unstructured(e, x)
        result = restructured(_derivative(plain, px, layout, vec), e, x)
    return remembered(result, e, x, layout, vec, structured is not False)


class Partials(tuple):
    """The derivatives by several variables, in order: a tuple that prints as text and
    renders in Jupyter as the list of ∂f/∂x = … ."""

    def __repr__(self) -> str:
        return "(" + ", ".join(map(repr, self)) + ("," if len(self) == 1 else "") + ")"

    def _repr_latex_(self) -> str:
        lines = []
        for r in self:
            (x,) = r.derived_from.wrt if r.derived_from is not None else (None,)
            name = x.latex() if x is not None else "x"
            lines.append(rf"\frac{{\partial f}}{{\partial {name}}} &= {r.latex()}")
        return "$\\begin{aligned}" + r" \\ ".join(lines) + "\\end{aligned}$"


def _structured(f: Expr, x: Symbol, layout: str, convention: str) -> Expr:
    """The derivative on a space of structured matrices, from G, the unstructured one.

    "cookbook": the Matrix Cookbook's section 2.8: for a symmetric X, G + G^T - diag(G)
    ((141); the derivative by the entries X_ij, i ≤ j, each off-diagonal one standing for
    two entries); use it to step the free parameters of a symmetric matrix one by one.
    "sym": the gradient on the space of symmetric matrices with the Frobenius inner
    product, (G + G^T)/2 (Srinivasan & Panda, arXiv:1911.06491, which shows that the
    Cookbook's form is not that gradient); use it for gradient descent on S itself.
    For a diagonal X both are diag(diag(G)) (section 2.8.3)."""
    assumptions = x.info.assumptions if x.info is not None else frozenset()
    if not f.ty.is_scalar or x.ty.kind != "matrix":
        raise UsageError("structured= applies to a scalar function of a matrix")
    if not assumptions & {"diagonal", "symmetric"}:
        raise UsageError(f"structured= needs `{x.name}` declared symmetric or diagonal",
                         hint=f"where=\"{x.name}: symmetric\"")
    g = _derivative(f, x, layout)
    diagonal = build.apply("diag_matrix", build.apply("diag_vector", g))
    if "diagonal" in assumptions:
        result = diagonal
    elif convention == "sym":
        result = build.apply("mul", build.apply("div", build.num(1), build.num(2)),
                             build.total([g, build.apply("transpose", g)], g.ty))
    else:
        result = build.total([g, build.apply("transpose", g), build.negate(diagonal)], g.ty)
    return retype(simplify_tree(result), _known(f, x), g.ty)


@public
def jacobian(expr, wrt, where=None):
    """∂F/∂x (m×n, numerator layout); a list of scalars is one stacked variable."""
    e = as_expr(expr, where)
    if isinstance(wrt, (list, tuple)):
        return _stacked(e, [wrt_symbol(e, w, where) for w in variables(wrt)])
    x = wrt_symbol(e, wrt, where)
    plain, px = unstructured(e, x)
    return remembered(restructured(_derivative(plain, px), e, x), e, x)


@public
def hessian(expr, wrt, where=None, vec: bool = False):
    """The Jacobian of the gradient: n×n for a vector x. By a variable declared symmetric,
    spd, diagonal or orthogonal, the Jacobian of the *unstructured* gradient (what
    autograd computes, SPEC section 3), simplified under the assumption at the end."""
    e = as_expr(expr, where)
    if not e.ty.is_scalar:
        raise UsageError(f"the Hessian is defined for a scalar function, not "
                         f"{e.ty.describe()}")
    if isinstance(wrt, (list, tuple)):
        xs = [wrt_symbol(e, w, where) for w in variables(wrt)]
        gradient = _stacked(e, xs)
        return _stacked(gradient, xs)
    x = wrt_symbol(e, wrt, where)
    plain, px = unstructured(e, x)
    if vec and x.ty.kind == "matrix":
        result = _higher_order(_derivative(plain, px), px, vec=True)
    else:
        result = layered_hessian(plain, px, _derivative, HESSIAN_FOLD_TERMS, ACROSS_FOLDS)
        if result is None:
            result = _derivative(_derivative(plain, px), px, fold_terms=HESSIAN_FOLD_TERMS)
    return remembered(restructured(result, e, x), e, x, vec=vec, hessian=True)


def unstructured(e: Expr, x: Symbol) -> tuple[Expr, Symbol]:
    """e and x with x's assumptions dropped (kind and dimensions kept), e a derivative
    recomputed so: the start of a derivative by x. A gradient already rewritten with the
    assumption (S^-T as S^-1) and differentiated again gives a different, wrong second
    derivative (SPEC section 3)."""
    if x.info is None or not x.info.assumptions:
        return e, x
    info = replace(x.info, assumptions=frozenset())
    return _without_assumptions(e, info), replace(x, info=info)


def _without_assumptions(e: Expr, info: SymbolInfo) -> Expr:
    """e with the symbol `info` names stripped of its assumptions; a derivative that
    remembers its input (and is still the form made) is derived again from that input."""
    made = e.derived_from
    if made is None or made.form is None or made.form != e:
        return with_infos(e, {info.name: info})
    (w,) = made.wrt
    w = replace(w, info=info) if w.name == info.name else w
    of = _without_assumptions(made.of, info)
    if made.layout == "hessian":
        return _derivative(_derivative(of, w), w)
    return _derivative(of, w, made.layout, made.vec)


def remembered(result, e: Expr, x: Symbol, layout: str = "numerator", vec: bool = False,
               structured: bool = False, hessian: bool = False):
    """The result with what it was derived from (SPEC section 4). A structured derivative
    is a function of its own, not re-derived by a further derivative (`form` None)."""
    layout = "hessian" if hessian else layout
    made = Derivation(e, (x,), layout, tuple(_known(e, x).values()), vec,
                      None if structured else result)
    return replace(result, derived_from=made)


def restructured(result, e: Expr, x: Symbol):
    """A derivative computed from the unstructured form, with the symbols' own kinds and
    assumptions back and simplified under them (S^-T is S^-1 for a symmetric S)."""
    if x.info is None or not x.info.assumptions:
        return result
    known = _known(e, x)
    if isinstance(result, TensorResult):
        return result.mapped(lambda node: simplify_tree(with_infos(node, known)), e, x)
    return retype(simplify_tree(with_infos(result, known)), known, result.ty)


def _stacked(e: Expr, xs: list[Symbol]) -> Expr:
    """∂e/∂[x1; x2; …] for scalars x_k, as a bracket literal of entries."""
    for x in xs:
        if not x.ty.is_scalar:
            raise UsageError(f"a list `wrt` stacks scalars; `{x.name}` is "
                             f"{x.ty.describe()}", hint="differentiate by each separately")
    if e.ty.kind == "matrix":
        raise UnsupportedError("the Jacobian of a matrix by stacked scalars is a tensor")
    entries = _entries(e)
    rows = [[_derivative(entry, x) for x in xs] for entry in entries]
    if e.ty.is_scalar:  # a gradient: a column
        rows = [[d] for d in rows[0]]
    cells = [cell for row in rows for cell in row]
    literal = build.apply("bracket", *cells, attrs=(len(rows), len(rows[0])))
    return retype(literal, {k: v for k, v in e.shapes.items()})


def _entries(e: Expr) -> list[Expr]:
    if e.ty.is_scalar:
        return [e]
    if isinstance(e, Apply) and e.op == "bracket":
        return list(e.args)
    raise UnsupportedError("a Jacobian by stacked scalars needs a bracket literal "
                           "[f1; f2; …] of scalar entries")


@public
def simplify(expr, where=None) -> Expr:
    e = as_expr(expr, where)
    result = retype(simplify_tree(e), dict(e.shapes), e.ty)
    if _free_sizes(result, e.ty) and not _free_sizes(e, e.ty):
        return e  # what cancelled fixed a size that the simplified form would leave open
    # the simplifier's memo may hand back an equal tree made by another call: what this
    # one was derived from is the input's (nodes compare without it)
    return replace(result, derived_from=e.derived_from)

