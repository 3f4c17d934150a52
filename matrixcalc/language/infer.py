"""Shape inference: kinds and symbolic dimensions for a whole expression (or statement).

Walks the raw tree bottom-up, asks each operator's shape rule for its result, lets
syntax-only operators elaborate into resolved ones, then names the dimensions
deterministically and annotates every node (`ty`) and symbol (`info`). Implements the
kind rules of SPEC section 2, including rule 3: an undeclared lower-case Latin name whose
conventional kind (a vector) cannot fit where it is used, while a scalar can, becomes a
scalar; an upper-case name never does. A shape error that remains is explained by
`conventions` where a conventional kind caused it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from itertools import combinations

from ..errors import MatrixCalcError, ShapeError, UsageError
from ..ops.spec import lookup
from .declarations import SQUARE, Declaration, conventional_kind, dimension_names
from .expr import Apply, Const, Dimension, Expr, Number, Symbol, SymbolInfo, walk
from .shapes import ONE, SCALAR, Dim, Shape, Unifier, name_dims, normalize

MAX_RULE3_SUBSETS = 64


class InferContext:
    """What a shape rule may use: unification, fresh dimensions and typed failure."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.unifier = Unifier()

    def fresh(self):
        return self.unifier.fresh()

    def unify(self, a, b) -> bool:
        return self.unifier.unify(a, b)

    def unify_shapes(self, a: Shape, b: Shape) -> bool:
        return self.unifier.unify_shapes(a, b)

    def resolve(self, shape: Shape) -> Shape:
        return self.unifier.resolve_shape(shape)

    def describe(self, shape: Shape) -> str:
        shape = self.resolve(shape)
        names = name_dims(self.unifier.order, set())
        rename = lambda dim: tuple(names.get(a, a) if isinstance(a, str) else a  # noqa: E731
                                   for a in dim)
        return Shape(rename(shape.rows), rename(shape.cols)).describe()

    def fail(self, message: str, node: Expr, hint: str | None = None):
        error = ShapeError(message, self.text, node.span, hint)
        error.node = node
        raise error


class Inference:
    """One attempt at typing `roots` with a fixed kind for every symbol."""

    def __init__(self, kinds: dict[str, str], declared: dict[str, Declaration],
                 text: str | None, known: dict[str, SymbolInfo] | None = None) -> None:
        self.ctx = InferContext(text)
        self.declared = declared
        self.symbol_shapes: dict[str, Shape] = {}
        for name, kind in kinds.items():
            if known and name in known:
                self.symbol_shapes[name] = known[name].shape  # dimensions already named
            else:
                self.symbol_shapes[name] = self._new_shape(name, kind)

    def _new_shape(self, name: str, kind: str) -> Shape:
        if kind == "scalar":
            return SCALAR
        declaration = self.declared.get(name, Declaration(None, frozenset()))
        named = declaration.shape_atoms()
        if named is not None and declaration.kind == kind:
            rows, cols = named
            return Shape(normalize((rows,)), normalize((cols,)) if cols != 1 else ONE)
        rows = self.ctx.fresh()
        if kind == "vector":
            return Shape(rows, ONE)
        return Shape(rows, rows if declaration.assumptions & SQUARE else self.ctx.fresh())

    def type(self, node: Expr) -> Expr:
        if node.ty is not None:
            return node
        if isinstance(node, Symbol):
            return replace(node, ty=self.symbol_shapes[node.name])
        if isinstance(node, (Number, Dimension)):
            return replace(node, ty=SCALAR)
        if isinstance(node, Const):
            dim = self.ctx.fresh()
            return replace(node, ty=Shape(dim, dim if node.name == "I" else ONE))
        if isinstance(node, Apply):
            return self._type_apply(node)
        raise TypeError(f"not an expression node: {node!r}")

    def _type_apply(self, node: Apply) -> Expr:
        try:
            args = tuple(self.type(arg) for arg in node.args)
            typed = replace(node, args=args)
            spec = lookup(node.op)
            types = [arg.ty for arg in args]
            if spec.elaborate is not None:
                elaborated = spec.elaborate(self.ctx, typed, types)
                if elaborated is not None:
                    return self.type(elaborated)
            # the node is new and not yet shared: its shape is set in place, not copied
            object.__setattr__(typed, "ty", spec.shape(self.ctx, typed, types))
            return typed
        except ShapeError as error:
            # the operators being typed when it failed, innermost first (used by rule 3)
            if not hasattr(error, "ancestors"):
                error.ancestors = []
            error.ancestors.append(node)
            raise


def infer(roots: list[Expr], declared: dict[str, Declaration],
          text: str | None = None, known: dict[str, SymbolInfo] | None = None) -> list[Expr]:
    """Type every root in one shared context; symbols mean the same thing in all.
    `known` symbols keep the kinds and named dimensions they already have."""
    if known:
        declared = {**declared, **{n: Declaration(i.kind, i.assumptions)
                                   for n, i in known.items()}}
    try:
        return _infer(roots, declared, text, known, explain=known is None)
    except MatrixCalcError as error:  # an operator's hook may not know the source text
        raise error.with_source(text) if text is not None else error from None


def try_infer(roots: list[Expr], declared: dict[str, Declaration],
              text: str | None) -> list[Expr] | None:
    """The typed roots, or None where they do not type (no hint is worked out): how a
    hint or a warning tries another declaration."""
    try:
        return _infer(roots, declared, text)
    except MatrixCalcError:
        return None


def _infer(roots: list[Expr], declared: dict[str, Declaration],
           text: str | None, known: dict[str, SymbolInfo] | None = None,
           explain: bool = False) -> list[Expr]:
    roots = [as_dimensions(root, declared, text) for root in roots]
    names = _symbol_names(roots)
    kinds = {name: _initial_kind(name, declared) for name in names}
    origins = {name: "declared" if declared.get(name, Declaration(None, frozenset())).kind
               else "convention" for name in names}
    forced: set[str] = set()
    local: set[str] | None = None
    while True:
        try:
            attempt = Inference(kinds, declared, text, known)
            typed = [attempt.type(root) for root in roots]
            return _finalize(typed, attempt, declared, origins, known)
        except ShapeError as error:
            found = _rule3_scalars(error, roots, kinds, declared, text, forced)
            if found and local is None:  # once: every part's own scalars together
                local = _local_scalars(roots, kinds, declared, text)
                found = tuple(dict.fromkeys(found + tuple(sorted(local - forced))))
            if not found:
                if explain:  # name the convention behind a clashing kind (SPEC section 8)
                    from .conventions import explain_conventions  # builds on this module
                    explain_conventions(error, roots, kinds, origins, declared, text)
                raise
            for name in found:
                kinds[name] = "scalar"
                origins[name] = "inferred scalar"
                forced.add(name)


def _local_scalars(roots: list[Expr], kinds: dict[str, str],
                   declared: dict[str, Declaration], text: str | None) -> set[str]:
    """The names rule 3 makes scalars in the parts of n-ary nodes (a bracket literal's
    entries, a sum's terms), each part typed on its own in its operator. A name whose conventional kind
    fails inside one part fails in the whole, so these are all made scalars at once:
    typing a literal of n entries that each need one is linear in n, not quadratic (one
    retyping of the whole per name)."""
    found: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if not isinstance(node, Apply):
            continue
        if lookup(node.op).arity is not None or len(node.args) < 2:
            stack.extend(node.args)
            continue
        for part in node.args:
            if not _candidates(part, kinds, declared):
                continue
            try:  # the part in its parent alone: a bracket's entry must be a scalar
                (typed,) = _infer([replace(node, args=(part,))], declared, text)
            except MatrixCalcError:
                continue  # the whole's typing reports it
            found.update(n.name for n in walk(typed) if isinstance(n, Symbol)
                         and n.info.origin == "inferred scalar")
    return found


def as_dimensions(root: Expr, declared: dict[str, Declaration], text: str | None) -> Expr:
    """The tree with every symbol that a declaration names as a dimension (`n` in
    `X: matrix(n, d)`) made that dimension's size."""
    dims = dimension_names(declared)
    if not dims or not any(isinstance(n, Symbol) and n.name in dims for n in walk(root)):
        return root
    clash = sorted(d for d in dims if declared.get(d) is not None
                   and declared[d].kind is not None)
    if clash:
        raise UsageError(f"`{clash[0]}` is declared both a dimension and a "
                         f"{declared[clash[0]].kind}", hint="give the dimension another name")

    def convert(node: Expr) -> Expr:
        if isinstance(node, Symbol) and node.name in dims:
            return Dimension(node.name, span=node.span)
        if isinstance(node, Apply):
            return replace(node, args=tuple(convert(a) for a in node.args))
        return node
    return convert(root)


def _initial_kind(name: str, declared: dict[str, Declaration]) -> str:
    declaration = declared.get(name)
    if declaration is not None and declaration.kind is not None:
        return declaration.kind
    return conventional_kind(name)


def _symbol_names(roots: list[Expr]) -> list[str]:
    names: dict[str, None] = {}
    for root in roots:
        for node in walk(root):
            if isinstance(node, Symbol):
                names.setdefault(node.name)
    return list(names)


def _rule3_scalars(error: ShapeError, roots, kinds, declared, text,
                   forced: set[str]) -> tuple[str, ...]:
    """The smallest set of undeclared, non-scalar symbols that, made scalars, removes the
    failure (singles first, in order of appearance). Only a failure of an operator that
    needs a scalar somewhere (`scalar_context`) qualifies; so does a failure caused by a
    symbol already made a scalar (the `+` in `[x1^2 + x2; …]`) when an enclosing operator
    needs scalars. A set that types everything wins over one that only moves the failure
    on, so `(x + y)(x - y)` makes both x and y scalars."""
    scope = _rule3_scope(error, forced)
    if scope is None:
        return ()
    failing = getattr(error, "node", None)
    candidates = _candidates(failing, kinds, declared) if isinstance(failing, Expr) else []
    if not candidates:
        candidates = _candidates(scope, kinds, declared)
    subsets = [(c,) for c in candidates]
    if 1 < len(candidates) <= 6:
        subsets += [s for k in range(2, len(candidates) + 1)
                    for s in combinations(candidates, k)]
    elif len(candidates) > 6:
        subsets.append(tuple(candidates))
    progress: tuple[str, ...] = ()
    for subset in subsets[:MAX_RULE3_SUBSETS]:
        trial = dict(kinds, **{name: "scalar" for name in subset})
        try:
            attempt = Inference(trial, declared, text)
            for root in roots:
                attempt.type(root)
            return subset
        except ShapeError as again:
            if not progress and again.span != error.span:
                progress = subset  # this spot is fixed, a later one fails
    return progress


def _rule3_scope(error: ShapeError, forced: set[str]) -> Apply | None:
    """The operator whose need for a scalar may justify rule 3 here, or None."""
    ancestors = getattr(error, "ancestors", [])
    if not ancestors:
        return None
    raising = ancestors[0]
    if "scalar_context" in lookup(raising.op).flags:
        return raising
    if not forced & set(_symbol_names([raising])):
        return None
    if raising.op == "add":
        return raising  # a term became a scalar by rule 3 (`x^2 + y`): so may the others
    for node in ancestors[1:]:
        if "scalar_context" in lookup(node.op).flags:
            return node
    return None


def _candidates(node: Expr, kinds, declared) -> list[str]:
    """Undeclared lower-case Latin names not yet scalars: only a conventional vector may
    become a scalar; an upper-case name never does (`tr(A^0.5)` is an error)."""
    return [name for name in _symbol_names([node])
            if kinds[name] != "scalar" and not _declared_kind(name, declared)
            and conventional_kind(name) == "vector"]


def _declared_kind(name: str, declared: dict[str, Declaration]) -> bool:
    declaration = declared.get(name)
    return declaration is not None and declaration.kind is not None


def _finalize(typed: list[Expr], attempt: Inference, declared, origins,
              known: dict[str, SymbolInfo] | None = None) -> list[Expr]:
    """Name the dimensions (in order of first appearance) and annotate every node."""
    # the unifier is settled: each distinct dimension and shape is worked out once (a
    # sum of thousands of terms holds a few shapes thousands of times)
    resolved = cache(attempt.ctx.unifier.resolve)
    shapes: dict[Shape, None] = {}
    taken = set(dimension_names(declared))
    for root in typed:
        for node in walk(root):
            shapes.setdefault(node.ty)
            if isinstance(node, (Symbol, Dimension)):
                taken.add(node.name)
    order = dict.fromkeys(atom for shape in shapes for dim in (shape.rows, shape.cols)
                          for atom in resolved(dim)
                          if isinstance(atom, str) and atom.startswith("?"))
    for info in (known or {}).values():
        taken.update(a for a in info.rows + info.cols if isinstance(a, str))
    names = name_dims(list(order), taken)

    @cache
    def rename(dim: Dim) -> Dim:
        return tuple(sorted((names.get(a, a) for a in resolved(dim)),
                            key=lambda a: (isinstance(a, str), str(a))))

    @cache
    def final(shape: Shape) -> Shape:
        return Shape(rename(shape.rows), rename(shape.cols))

    infos: dict[str, SymbolInfo] = {}
    for name, shape in attempt.symbol_shapes.items():
        decl = declared.get(name, Declaration(None, frozenset()))
        fixed = final(shape)
        kind = {"row vector": "vector"}.get(fixed.kind, fixed.kind)
        origin = known[name].origin if known and name in known else origins[name]
        infos[name] = SymbolInfo(name, kind, fixed.rows, fixed.cols, decl.assumptions, origin)

    def annotate(node: Expr) -> Expr:
        if isinstance(node, Apply):
            return replace(node, args=tuple(annotate(a) for a in node.args),
                           ty=final(node.ty))
        if isinstance(node, Symbol):
            return replace(node, ty=final(node.ty), info=infos[node.name])
        return replace(node, ty=final(node.ty))

    return [annotate(root) for root in typed]
