"""Kinds and symbolic dimensions, and the unifier that infers them.

A dimension is a product of atoms: a symbolic name (`"n"`) or a concrete size (`3`);
the empty product `ONE` is the size 1. A `Shape` is rows × cols: a scalar is ONE × ONE,
a vector n × ONE, a row vector ONE × n, a matrix m × n. Invariant (SPEC section 2): a
dimension of a vector or a matrix is never unified with ONE, so a kind never changes.
During inference, atoms may be variables (`"?3"`); `Unifier.resolve` replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

Atom = str | int
Dim = tuple[Atom, ...]
ONE: Dim = ()

KINDS = ("scalar", "vector", "matrix")


def normalize(atoms: tuple[Atom, ...]) -> Dim:
    """A product in canonical order: concrete sizes folded into one, names sorted."""
    if len(atoms) < 2:  # the common case, a single size: canonical already (but 1 is ())
        return () if atoms and atoms[0] == 1 and isinstance(atoms[0], int) else tuple(atoms)
    size = prod(a for a in atoms if isinstance(a, int))
    names = sorted(a for a in atoms if isinstance(a, str))
    return ((size,) if size != 1 else ()) + tuple(names)


def dim_size(dim: Dim, sizes, missing: int | None = None) -> int:
    """The number of entries along dim: its whole numbers times the sizes `sizes` gives
    its names (`missing` for a name it lacks; KeyError where that is None)."""
    total = 1
    for atom in dim:
        if isinstance(atom, int):
            total *= atom
        elif atom in sizes or missing is None:
            total *= sizes[atom]
        else:
            total *= missing
    return total


def dim_text(dim: Dim) -> str:
    if dim == ONE:
        return "1"
    return "·".join(str(a) for a in dim)


@dataclass(frozen=True, slots=True)
class Shape:
    rows: Dim
    cols: Dim

    @property
    def kind(self) -> str:
        if self.rows == ONE:
            return "scalar" if self.cols == ONE else "row vector"
        return "vector" if self.cols == ONE else "matrix"

    @property
    def is_scalar(self) -> bool:
        return self.rows == ONE and self.cols == ONE

    @property
    def dims(self) -> tuple:
        """The user-facing shape: () scalar, ("n",) vector, (1, "n") row, ("m", "n")."""
        kind = self.kind
        if kind == "scalar":
            return ()
        if kind == "vector":
            return (dim_text(self.rows),)
        if kind == "row vector":
            return (1, dim_text(self.cols))
        return (dim_text(self.rows), dim_text(self.cols))

    def transposed(self) -> Shape:
        return Shape(self.cols, self.rows)

    def describe(self) -> str:
        """`a vector (n)`, `a matrix (m×n)`: the words used in error messages."""
        kind = self.kind
        if kind == "scalar":
            return "a scalar"
        article = "an" if kind[0] in "aeiou" else "a"
        size = "×".join(dim_text(d) for d in (self.rows, self.cols)) if kind != "vector" \
            else dim_text(self.rows)
        return f"{article} {kind} ({size})"


SCALAR = Shape(ONE, ONE)


class Unifier:
    """Union-find over dimension variables; a variable may be bound to a product."""

    def __init__(self) -> None:
        self._bindings: dict[str, Dim] = {}
        self._count = 0
        self.order: list[str] = []  # variables in order of creation, for naming

    def fresh(self) -> Dim:
        name = f"?{self._count}"
        self._count += 1
        self.order.append(name)
        return (name,)

    def resolve(self, dim: Dim) -> Dim:
        """The product with every bound variable replaced, iteratively; each binding met
        is rewritten to its resolved form (path compression), so chains stay short."""
        if not self._bindings:
            return normalize(dim)
        atoms: list[Atom] = []
        for atom in dim:
            if isinstance(atom, str) and atom in self._bindings:
                atoms.extend(self._resolve_var(atom))
            else:
                atoms.append(atom)
        return normalize(tuple(atoms))

    def _resolve_var(self, var: str) -> Dim:
        chain = []
        bound = self._bindings[var]
        while len(bound) == 1 and bound[0] in self._bindings:  # a plain alias chain
            chain.append(bound[0])
            bound = self._bindings[bound[0]]
        if any(isinstance(a, str) and a in self._bindings for a in bound):
            bound = self.resolve(bound)  # a product: its atoms resolve on their own
        for alias in [var] + chain:
            self._bindings[alias] = bound
        return bound

    def resolve_shape(self, shape: Shape) -> Shape:
        return Shape(self.resolve(shape.rows), self.resolve(shape.cols))

    def unify(self, a: Dim, b: Dim) -> bool:
        """Make a and b equal; False (and nothing bound) when they cannot be. Products
        cancel their common factors first (n·r = n·s gives r = s, 6 = 2·r gives r = 3)."""
        a, b = _cancel(self.resolve(a), self.resolve(b))
        if a == b:
            return True
        for var, other in ((a, b), (b, a)):
            if len(var) == 1 and _is_var(var[0]) and other != ONE and var[0] not in other:
                self._bindings[var[0]] = other
                return True
            root = _root(var, other)  # v·v = n·n: v = n (vec(I) beside vec(A))
            if root is not None:
                self._bindings[var[0]] = root
                return True
        return False

    def unify_shapes(self, a: Shape, b: Shape) -> bool:
        if a.kind != b.kind:
            return False
        return self.unify(a.rows, b.rows) and self.unify(a.cols, b.cols)


def _cancel(a: Dim, b: Dim) -> tuple[Dim, Dim]:
    """a and b with their common names and the common part of their sizes divided out;
    (a, b) unchanged where a size does not divide (6 = 4·r has no solution)."""
    if len(a) < 2 and len(b) < 2:
        return a, b  # nothing to cancel (the common case: single names)
    left, right = list(a), list(b)
    for atom in list(left):
        if isinstance(atom, str) and atom in right:
            left.remove(atom)
            right.remove(atom)
    p = next((x for x in left if isinstance(x, int)), 1)
    q = next((x for x in right if isinstance(x, int)), 1)
    if p != 1 or q != 1:
        if p % q == 0 or q % p == 0:
            small = min(p, q)
            left = [x // small if isinstance(x, int) else x for x in left]
            right = [x // small if isinstance(x, int) else x for x in right]
        elif (left, right) != (list(a), list(b)):
            return a, b
    return normalize(tuple(left)), normalize(tuple(right))


def _root(var: Dim, other: Dim) -> Dim | None:
    """The k-th root of `other` when `var` is one variable repeated k times, else None."""
    k = len(var)
    if k < 2 or len(set(var)) != 1 or not _is_var(var[0]) or var[0] in other:
        return None
    if any(isinstance(a, int) for a in other):
        return None
    counts = {a: other.count(a) for a in other}
    if not other or any(c % k for c in counts.values()):
        return None
    return normalize(tuple(a for a, c in counts.items() for _ in range(c // k)))


def _is_var(atom: Atom) -> bool:
    return isinstance(atom, str) and atom.startswith("?")


DIM_NAMES = ("n", "m", "p", "q", "r", "s", "t", "u", "v", "w", "k", "l")


def name_dims(variables: list[str], taken: set[str]) -> dict[str, str]:
    """Deterministic names for dimension variables, avoiding `taken` (symbol names)."""
    pool = [name for name in DIM_NAMES if name not in taken]
    pool += [f"d{i}" for i in range(1, len(variables) + 1) if f"d{i}" not in taken]
    return dict(zip(variables, pool))
