"""Random inputs for the numeric checker: sizes, then values, then domain guards.

A `Problem` gathers the typed trees that must be evaluated together (an expression and
its claimed derivative, two sides of an equality), each in its own namespace of
dimension names, and unifies them: symbols of the same name share a kind and sizes.
`Problem.draw(rng)` then gives float64 inputs that honour

- kinds and dimensions: DISTINCT sizes >= 2 for distinct dimension variables (distinct
  primes, so that no product of sizes equals another size and a missing transpose or a
  wrong reshape cannot hide); concrete sizes from bracket literals stay as written;
- declared assumptions: symmetric, spd, diagonal, orthogonal, invertible, distribution,
  stochastic (each row of a matrix a distribution);
- the operators' domains (`OpSpec.domains`): an argument that is a symbol is drawn from
  its domain (positive, nonzero, invertible or spd, well conditioned; symmetric for
  eigmax and eigmin; spd for sqrtm and logm, whose domain, a positive spectrum, also
  holds S1 S2 for spd S1 and S2).

Arguments that are not symbols (`log(x^T A x)`, `inv(A B)`) are checked while
evaluating (`domain_guard`); a draw that leaves a domain or gives a non-finite value is
redrawn, never counted. Invariant: every draw is a function of the seed alone.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ShapeError, UnsupportedError, UsageError
from ..language.expr import Apply, Dimension, Expr, Symbol, walk
from ..language.shapes import ONE, Dim, Shape, Unifier
from ..ops import lookup
from ..ops.powers import integer_literal
from ..ops.spec import DOMAINS

PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
MAX_CONDITION = 1e4     # an invertible/spd symbol is drawn with cond below this
GUARD_CONDITION = 1e8   # a computed matrix passed to inv/det/logdet must stay below this
GUARD_EPS = 1e-6        # |value| below this is "zero" for positive/nonzero domains
GUARD_GAP = 1e-3        # eigenvalues or singular values closer than this (relative) are one
MAX_REDRAWS = 200


class OutOfDomain(Exception):
    """Raised by `domain_guard` during a draw's evaluation: the draw is redrawn."""


# -- which domain each argument lives in ----------------------------------------------------

def effective_domain(node: Apply, position: int) -> str:
    """The domain of argument `position` of `node`, from the operator table.

    One refinement: a power's base is "positive" in the table (for `x^0.5`), but with an
    integer literal exponent any real base is fine (nonzero for a negative exponent).
    """
    domain = lookup(node.op).domain_of(position)
    if domain == "positive" and position == 0 and len(node.args) == 2:
        k = integer_literal(node.args[1])
        if k is not None:
            return "real" if k >= 0 else "nonzero"
    if domain not in DOMAINS:
        raise UnsupportedError(f"operator `{node.op}` names the sampling domain `{domain}`, "
                               "which the sampler does not know",
                               hint=f"known domains: {', '.join(sorted(DOMAINS))}")
    return domain


def _strip_transpose(node: Expr) -> Expr:
    while isinstance(node, Apply) and node.op == "transpose":
        node = node.args[0]
    return node


def symbol_domains(roots: list[Expr]) -> dict[str, set[str]]:
    """For each symbol that is (up to transposes) an operator's argument, its domains."""
    found: dict[str, set[str]] = {}
    for root in roots:
        for node in walk(root):
            if not isinstance(node, Apply):
                continue
            for position, arg in enumerate(node.args):
                target = _strip_transpose(arg)
                if isinstance(target, Symbol):
                    domain = effective_domain(node, position)
                    if domain not in ("real", "vector"):
                        found.setdefault(target.name, set()).add(domain)
    return found


def domain_guard(node: Apply, position: int, value: Any) -> None:
    """Raise OutOfDomain when a numpy `value` is outside argument `position`'s domain."""
    domain = effective_domain(node, position)
    if domain in ("real", "vector"):
        return
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise OutOfDomain(f"a non-finite argument of `{node.op}`")
    if domain == "positive" and not np.all(array > GUARD_EPS):
        raise OutOfDomain(f"an argument of `{node.op}` is not positive")
    if domain == "nonzero" and not np.all(np.abs(array) > GUARD_EPS):
        raise OutOfDomain(f"an argument of `{node.op}` is (nearly) zero")
    if domain in ("invertible", "spd"):
        if array.shape[0] != array.shape[1] or np.linalg.cond(array) > GUARD_CONDITION:
            raise OutOfDomain(f"the argument of `{node.op}` is (nearly) singular")
        if domain == "spd" and (not np.allclose(array, array.T)
                                or np.linalg.eigvalsh(array).min() <= GUARD_EPS):
            raise OutOfDomain(f"the argument of `{node.op}` is not positive definite")
    if domain in SPECTRAL_DOMAINS and not SPECTRAL_DOMAINS[domain](array):
        raise OutOfDomain(f"the argument of `{node.op}` is outside its domain ({domain})")


def _positive_spectrum(a: np.ndarray) -> bool:
    """Eigenvalues in the open right half plane, well apart (the principal sqrtm and logm
    are then defined, and the eigendecomposition the torch backend uses is well
    conditioned): an spd matrix, or a product of two (S1 S2, similar to an spd one)."""
    if a.shape[0] != a.shape[1] or np.linalg.cond(a) > GUARD_CONDITION:
        return False
    lam = np.linalg.eigvals(a)
    return bool(lam.real.min() > GUARD_EPS and _apart(np.sort_complex(lam)))


def _apart(values: np.ndarray) -> bool:
    scale = max(1.0, float(np.abs(values).max()))
    return bool(len(values) < 2 or np.abs(np.diff(values)).min() > GUARD_GAP * scale)


def _simple_end(end: int):
    """The largest (end -1) or smallest (end 0) eigenvalue of the symmetric part, simple."""
    def simple(a: np.ndarray) -> bool:
        if a.shape[0] != a.shape[1]:
            return False
        lam = np.linalg.eigvalsh((a + a.T) / 2)
        return _apart(lam[[0, 1]] if end == 0 else lam[[-2, -1]])
    return simple


def _singular(a: np.ndarray) -> np.ndarray:
    return np.linalg.svd(a, compute_uv=False)


def _definite_rank(sv: np.ndarray) -> bool:
    """Every singular value is zero to rounding or well above it: the rank is plain (pinv
    is differentiable at constant rank; λ I - S for an eigenvalue λ of S has rank n - 1)."""
    scale = max(float(sv.max()), GUARD_EPS)
    return bool(np.all((sv < 1e-10 * scale) | (sv > scale / GUARD_CONDITION ** 0.5)))


SPECTRAL_DOMAINS = {
    "positive_spectrum": _positive_spectrum,
    "simple_max": _simple_end(-1),
    "simple_min": _simple_end(0),
    "simple_sv": lambda a: min(a.shape) < 2 or _apart(_singular(a)[:2]),
    "definite_rank": lambda a: _definite_rank(_singular(a)),
    "full_column_rank": lambda a: a.shape[0] >= a.shape[1] and (
        _singular(a).min() > _singular(a).max() / GUARD_CONDITION ** 0.5),
}


# -- sizes ------------------------------------------------------------------------------------

class SizeSystem:
    """Dimension names of several namespaces, unified; sizes drawn per free variable."""

    def __init__(self) -> None:
        self.unifier = Unifier()
        self.concrete: set[int] = set()

    @staticmethod
    def var(ns: int, dim: Dim) -> Dim:
        return tuple(f"?{ns}:{a}" if isinstance(a, str) else a for a in dim)

    def note(self, ns: int, dim: Dim) -> None:
        self.concrete.update(a for a in dim if isinstance(a, int))

    def unify(self, ns_a: int, a: Dim, ns_b: int, b: Dim) -> bool:
        self.note(ns_a, a)
        self.note(ns_b, b)
        left = list(self.unifier.resolve(self.var(ns_a, a)))
        right = list(self.unifier.resolve(self.var(ns_b, b)))
        for atom in list(left):  # cancel common factors: (n·m) = (n·p) gives m = p
            if isinstance(atom, str) and atom in right:
                left.remove(atom)
                right.remove(atom)
        if not left and not right:
            return True
        if ns_a < ns_b:  # bind the later namespace's variables to the earlier's names
            left, right = right, left
        return self.unifier.unify(tuple(left), tuple(right))

    def free(self, dims: list[tuple[int, Dim]]) -> list[str]:
        names: dict[str, None] = {}
        for ns, dim in dims:
            for atom in self.unifier.resolve(self.var(ns, dim)):
                if isinstance(atom, str):
                    names.setdefault(atom)
        return sorted(names)

    def draw(self, rng: np.random.Generator, dims: list[tuple[int, Dim]]) -> dict[str, int]:
        free = self.free(dims)
        pool = [p for p in PRIMES if p not in self.concrete][:len(free) + 2]
        if len(pool) < len(free):
            raise UnsupportedError(f"too many independent dimensions ({len(free)}) to sample")
        chosen = rng.permutation(pool)[:len(free)]
        return {name: int(size) for name, size in zip(free, chosen)}

    def size(self, ns: int, dim: Dim, sizes: dict[str, int]) -> int:
        total = 1
        for atom in self.unifier.resolve(self.var(ns, dim)):
            total *= atom if isinstance(atom, int) else sizes[atom]
        return total


# -- the problem: symbols, shapes, assumptions, domains ---------------------------------------

@dataclass
class SymbolSpec:
    name: str
    kind: str
    ns: int
    rows: Dim
    cols: Dim
    assumptions: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)


@dataclass
class Draw:
    """One point: sizes of the dimension names (namespace 0's names) and the inputs."""

    seed: int
    sizes: dict[str, int]         # resolved variable -> size
    named_sizes: dict[str, int]   # dimension name as the user sees it -> size
    values: dict[str, np.ndarray]  # internal 2-D float64 arrays


class Problem:
    """Typed trees (each in a namespace) whose symbols and dimensions are unified."""

    def __init__(self, text: str | None = None) -> None:
        self.sizes = SizeSystem()
        self.symbols: dict[str, SymbolSpec] = {}
        self.dims: list[tuple[int, Dim]] = []
        self.text = text

    def add_root(self, ns: int, root: Expr) -> None:
        nodes = list(walk(root))
        for node in nodes:
            if node.ty is None:
                raise UsageError("an expression without inferred shapes: build it with "
                                 "mc.parse")
            self.add_dims(ns, node.ty)
            if isinstance(node, Dimension) and ns != 0:
                # a size names a dimension of the expression checked (namespace 0)
                self.sizes.unify(ns, (node.name,), 0, (node.name,))
                self.dims.append((ns, (node.name,)))
        # new symbols in order of use (the draw order); then the known ones unified, those
        # of plain dimensions first: they fix the names that products are made of
        known = []
        for node in nodes:
            if isinstance(node, Symbol):
                if node.name in self.symbols:
                    known.append(node)
                else:
                    self.add_symbol(ns, node)
        for node in sorted(known, key=lambda s: len(s.info.rows) + len(s.info.cols)
                           if s.info else 0):
            self.add_symbol(ns, node)
        for name, domains in symbol_domains([root]).items():
            self.symbols[name].domains |= domains

    def add_dims(self, ns: int, shape: Shape) -> None:
        for dim in (shape.rows, shape.cols):
            if dim != ONE:
                self.dims.append((ns, dim))
                self.sizes.note(ns, dim)

    def add_symbol(self, ns: int, symbol: Symbol) -> None:
        info = symbol.info
        if info is None:
            raise UsageError(f"symbol `{symbol.name}` has no inferred kind: build the "
                             "expression with mc.parse")
        self.add_dims(ns, info.shape)
        known = self.symbols.get(symbol.name)
        if known is None:
            self.symbols[symbol.name] = SymbolSpec(symbol.name, info.kind, ns, info.rows,
                                                   info.cols, set(info.assumptions))
            return
        if known.kind != info.kind:
            raise ShapeError(f"`{symbol.name}` is a {known.kind} in one expression and a "
                             f"{info.kind} in the other", self.text, symbol.span,
                             hint=f"declare it, e.g. where=\"{symbol.name}: {known.kind}\"")
        known.assumptions |= set(info.assumptions)
        if not (self.sizes.unify(known.ns, known.rows, ns, info.rows)
                and self.sizes.unify(known.ns, known.cols, ns, info.cols)):
            raise ShapeError(f"`{symbol.name}` has different dimensions in the two "
                             "expressions", self.text, symbol.span)

    def unify_shapes(self, ns_a: int, a: Shape, ns_b: int, b: Shape) -> bool:
        """Make two shapes equal; on failure nothing is bound."""
        if a.kind != b.kind:
            return False
        saved = copy.deepcopy(self.sizes.unifier)
        pending = [(a.rows, b.rows), (a.cols, b.cols)]
        for _ in range(2):  # a plain side first fixes the names a product is made of
            pending = [(x, y) for x, y in pending if not self.sizes.unify(ns_a, x, ns_b, y)]
        if not pending:
            return True
        self.sizes.unifier = saved
        return False

    def describe(self, ns: int, shape: Shape) -> str:
        """A shape in namespace `ns`'s names after unification."""
        def name(dim: Dim) -> Dim:
            resolved = self.sizes.unifier.resolve(self.sizes.var(ns, dim))
            return tuple(_display(a) if isinstance(a, str) else a for a in resolved)
        return Shape(name(shape.rows), name(shape.cols)).describe()

    def size(self, ns: int, dim: Dim, sizes: dict[str, int]) -> int:
        return self.sizes.size(ns, dim, sizes)

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, seed: int) -> tuple[np.random.Generator, Draw]:
        """Sizes and values for one point; the generator continues for redraws."""
        rng = np.random.default_rng(seed)
        return rng, self.redraw(rng, seed)

    def redraw(self, rng: np.random.Generator, seed: int) -> Draw:
        sizes = self.sizes.draw(rng, self.dims)
        named: dict[str, int] = {}
        for ns, dim in self.dims:
            for atom in dim:
                if isinstance(atom, str) and ns == 0:
                    named.setdefault(atom, self.size(0, (atom,), sizes))
        for _ in range(MAX_REDRAWS):
            values = {}
            for spec in self.symbols.values():
                rows = self.size(spec.ns, spec.rows, sizes)
                cols = self.size(spec.ns, spec.cols, sizes)
                value = draw_value(rng, spec, rows, cols)
                if value is None:
                    break
                values[spec.name] = value
            else:
                return Draw(seed, sizes, dict(sorted(named.items())), values)
        raise UnsupportedError("could not draw well-conditioned inputs for "
                               f"{', '.join(self.symbols)} after {MAX_REDRAWS} attempts")


def _display(var: str) -> str:
    """`?0:n` is shown as n, a dimension of namespace k > 0 as n with k primes."""
    ns, name = var[1:].split(":", 1)
    return name + "'" * int(ns)


def _entries(rng: np.random.Generator, shape: tuple[int, int], domains: set[str]):
    if "positive" in domains:
        return rng.uniform(0.5, 2.0, shape)
    if "nonzero" in domains:
        return _mixed_signs(rng, rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape))
    return _mixed_signs(rng, rng.standard_normal(shape))


def _mixed_signs(rng: np.random.Generator, value: np.ndarray) -> np.ndarray:
    """Entries of both signs where there are several: at a point whose entries share one
    sign, claims such as sqrt(x .* x) = x or relu(x) = abs(x) hold by accident."""
    if value.size > 1 and (np.all(value > 0) or np.all(value < 0)):
        flat = value.reshape(-1)
        flat[rng.integers(flat.size)] *= -1.0
    return value


def draw_value(rng: np.random.Generator, spec: SymbolSpec, rows: int,
               cols: int) -> np.ndarray | None:
    """A 2-D float64 value for one symbol, or None when it must be redrawn."""
    facts = spec.assumptions | spec.domains
    shape = (rows, cols)
    if (spec.kind == "vector" and "distribution" in facts) or (
            spec.kind == "matrix" and "stochastic" in facts):
        z = rng.standard_normal(shape)  # a vector's column, or each row of a matrix
        axis = 0 if spec.kind == "vector" else 1
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    if spec.kind != "matrix":
        return _entries(rng, shape, spec.domains)
    n = rows
    if "orthogonal" in facts:
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
        return q * np.sign(np.diag(r))
    if facts & {"spd", "positive_spectrum"}:
        g = _entries(rng, (n, n), spec.domains)
        value = g @ g.T / n + 0.5 * np.eye(n)
    elif "diagonal" in facts:
        sign = 1.0 if "positive" in spec.domains else rng.choice([-1.0, 1.0], n)
        value = np.diag(sign * rng.uniform(0.5, 2.0, n))
    elif facts & {"symmetric", "simple_max", "simple_min"}:
        g = _entries(rng, (n, n), spec.domains)
        value = (g + g.T) / 2
    else:
        value = _entries(rng, shape, spec.domains)
    if facts & {"invertible", "spd"} and np.linalg.cond(value) > MAX_CONDITION:
        return None
    return value


def describe_sizes(sizes: dict[str, int]) -> str:
    return ", ".join(f"{name}={size}" for name, size in sizes.items()) or "no dimensions"


__all__ = ["Draw", "OutOfDomain", "Problem", "SizeSystem", "SymbolSpec", "describe_sizes",
           "domain_guard", "draw_value", "effective_domain", "symbol_domains"]
