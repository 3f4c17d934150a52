"""Shared subexpressions: a result written with each repeated part named once.

A deep network's gradient repeats every hidden activation (`tanh(W1 x)` inside the
derivative of the next layer and inside the next layer's input), so its printed tree
grows with the square of the depth while the computation it describes grows linearly.
`share(e)` names every subtree that occurs at least twice and prints in at least
`min_chars` characters, largest first, and prints the result as

    2 diag(1 - t1.^2) W2^T (W2 t1 - y) x^T
    where t1 = tanh(W1 x)

`SharedForm.expand()` gives the tree back. Only subtrees without `I`, `ones` or a
broadcast zero are named: those take their sizes from where they stand, so two equal
ones may differ in shape.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from ..language.expr import Apply, Const, Expr, Number, Symbol, SymbolInfo, substituted, walk
from ..language.printing import sort_key, symbol_latex, to_latex, to_text

MIN_CHARS = 8  # a shorter repeated part (`W1 x`) reads better written out


@dataclass(frozen=True)
class SharedForm:
    """`body` with `bindings` (name, definition), each defined before it is used."""

    body: Expr
    bindings: tuple[tuple[str, Expr], ...]

    def __str__(self) -> str:
        lines = [to_text(self.body)]
        for n, (name, definition) in enumerate(self.bindings):
            lines.append(f"{'where' if n == 0 else '     '} {name} = {to_text(definition)}")
        return "\n".join(lines)

    def latex(self) -> str:
        body = to_latex(self.body)
        if not self.bindings:
            return body
        defs = r",\; ".join(f"{symbol_latex(name)} = {to_latex(definition)}"
                            for name, definition in self.bindings)
        return rf"{body} \quad \text{{where }} {defs}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def expand(self) -> Expr:
        """The tree with every name replaced by its definition."""
        values: dict[str, Expr] = {}
        for name, definition in self.bindings:
            values[name] = substituted(definition, values)
        return substituted(self.body, values)


def share(e: Expr, min_chars: int = MIN_CHARS) -> SharedForm:
    """`e` with its repeated subtrees named; with none named when naming does not make
    the printed form shorter."""
    taken = {s.name for s in e.symbols()}
    roots: list[Expr] = [e]  # the body, then each definition in the order named
    known: dict[int, _Parts] = {}  # by root: a root that names nothing new is not walked
    while True:
        repeated = _repeated([_parts(r, known) for r in roots], min_chars)
        if repeated is None:
            break
        placeholder = _placeholder(f"_{len(roots)}", repeated)
        roots = [_replace_subtree(r, repeated, placeholder)
                 if repeated in known[id(r)].occurrences else r for r in roots] + [repeated]
    shared = _named_in_order(roots, taken)
    plain = SharedForm(e, ())
    return shared if len(str(shared)) < len(str(plain)) else plain


@dataclass(frozen=True)
class _Parts:
    """What a root holds: how often each subtree occurs in it (equal subtrees together,
    the root itself left out: a root is the body, or a definition whose uses are names
    already), and whether each node object's subtree is free of sizes from context."""

    root: Expr  # held: the cache is keyed by its id
    occurrences: Counter
    free: dict[int, bool]


def _parts(root: Expr, known: dict[int, _Parts]) -> _Parts:
    if id(root) not in known:
        counts = _occurrences(root)
        del counts[root]
        known[id(root)] = _Parts(root, counts, _context_free_nodes(root))
    return known[id(root)]


def _repeated(parts: list[_Parts], min_chars: int) -> Expr | None:
    """The largest subtree met at least twice across the roots that is worth a name."""
    counts: Counter = Counter()
    free: dict[int, bool] = {}
    for part in parts:
        counts.update(part.occurrences)
        free.update(part.free)
    best = None
    for node, count in counts.items():
        if count < 2 or not isinstance(node, Apply) or not free[id(node)]:
            continue
        size = len(to_text(node))
        if size >= min_chars and (best is None or (size, sort_key(node)) > best[0]):
            best = ((size, sort_key(node)), node)
    return None if best is None else best[1]


def _occurrences(root: Expr) -> Counter:
    """How often each subtree occurs in the printed tree, equal subtrees together, from
    each node object once: a result that shares its parts (a Hessian level by level)
    prints far larger than it is."""
    nodes = _parents_first(root)
    times = Counter({id(root): 1})
    for node in nodes:
        for child in node.children():
            times[id(child)] += times[id(node)]
    found: Counter = Counter()
    for node in nodes:
        found[node] += times[id(node)]
    return found


def _parents_first(root: Expr) -> list[Expr]:
    """Each node object once, every parent before its children (iterative)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in node.children() if id(c) not in seen)
    return order[::-1]


def _context_free_nodes(root: Expr) -> dict[int, bool]:
    """For each node object, whether its subtree holds no `I`, `ones` or broadcast
    number (children first)."""
    free: dict[int, bool] = {}
    for node in reversed(_parents_first(root)):
        free[id(node)] = not (isinstance(node, Const) or (
            isinstance(node, Number) and node.ty is not None
            and not node.ty.is_scalar)) and all(free[id(c)] for c in node.children())
    return free


def _placeholder(name: str, stands_for: Expr) -> Symbol:
    ty = stands_for.ty
    info = SymbolInfo(name, ty.kind if ty is not None else "matrix",
                      ty.rows if ty is not None else (), ty.cols if ty is not None else ())
    return Symbol(name, info=info, ty=ty)


def _replace_subtree(e: Expr, old: Expr, new: Expr) -> Expr:
    """e with every subtree equal to `old` replaced by `new`, each node object once."""
    done: dict[int, Expr] = {}
    for node in reversed(_parents_first(e)):
        if node == old:
            done[id(node)] = new
        elif isinstance(node, Apply):
            args = tuple(done[id(a)] for a in node.args)
            done[id(node)] = node if all(x is y for x, y in zip(args, node.args)) \
                else replace(node, args=args)
        else:
            done[id(node)] = node
    return done[id(e)]


def _named_in_order(roots: list[Expr], taken: set[str]) -> SharedForm:
    """Definitions ordered so that each comes after those it uses, named t1, t2, …"""
    body, definitions = roots[0], dict(zip((f"_{i}" for i in range(1, len(roots))),
                                           roots[1:]))
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for n in walk(definitions[name]):
            if isinstance(n, Symbol) and n.name in definitions:
                visit(n.name)
        order.append(name)

    for name in sorted(definitions, key=lambda k: int(k[1:])):
        visit(name)
    stem = next(s for s in ("t", "u", "v", "tmp", "_t")
                if not any(re.fullmatch(rf"{s}\d+", name) for name in taken))
    names = {old: _placeholder(f"{stem}{i}", definitions[old])
             for i, old in enumerate(order, 1)}
    rename = lambda e: substituted(e, names)  # noqa: E731
    return SharedForm(rename(body), tuple((names[old].name, rename(definitions[old]))
                                          for old in order))
