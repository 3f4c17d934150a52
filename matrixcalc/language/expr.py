"""The matrix-level expression tree: five frozen, slotted node kinds.

Nodes compare and hash by structure only. Three annotations ride along without taking
part in equality: `ty` (the inferred `Shape`), `span` (where in the source the node's
operator or name stands, for carets) and, on symbols, `info` (kind, dimensions,
assumptions). Operators are open (`Apply.op` names a record of the operator table);
node kinds are closed. Methods here only delegate to the modules that compute.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..errors import Span
from ..guard import public as _public
from .shapes import Dim, Shape

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """What a symbol is: its kind, dimensions, assumptions and how the kind was decided."""

    name: str
    kind: str
    rows: Dim
    cols: Dim
    assumptions: frozenset[str] = frozenset()
    origin: str = "convention"  # "declared", "convention" or "inferred scalar"

    @property
    def shape(self) -> Shape:
        return Shape(self.rows, self.cols)

    def describe(self) -> str:
        """`A: matrix (n×n); symmetric (declared)`."""
        words = ", ".join(sorted(self.assumptions))
        extra = f"; {words}" if words else ""
        return f"{self.name}: {self.shape.describe().split(' ', 1)[1]}{extra} ({self.origin})"


@dataclass(frozen=True, slots=True)
class Derivation:
    """What a result was derived from (SPEC section 4): the input, the variables, the
    layout and the input's symbols (kinds, dimensions, assumptions), so that a result
    can be evaluated from the input's values even where a symbol no longer occurs in it
    (d x/dx = I of x's size). `form` is the result as made: a further derivative of it
    by a variable with assumptions derives it again from `of` without them (SPEC
    section 3)."""

    of: Expr
    wrt: tuple[Symbol, ...]
    layout: str  # "numerator", "denominator", or "hessian" (the Jacobian of the gradient)
    symbols: tuple[SymbolInfo, ...]
    vec: bool = False
    form: Expr | None = None

    def knows(self) -> dict[str, SymbolInfo]:
        return {info.name: info for info in self.symbols}


class Expr:
    """Base of the node kinds; the public methods of a result live here."""

    __slots__ = ()
    is_tensor = False  # an order-3/4 derivative in index form (matrixcalc.calculus.tensor)

    ty: Shape | None
    span: Span | None
    derived_from: Derivation | None

    # -- what the tree holds ----------------------------------------------------------
    @property
    def kind(self) -> str:
        return _typed(self).kind

    @property
    def shape(self) -> tuple:
        return _typed(self).dims

    @property
    def shapes(self) -> dict[str, SymbolInfo]:
        """Every symbol's kind, dimensions and assumptions, by name, in order of use."""
        shapes = {s.name: s.info for s in self.symbols() if s.info is not None}
        if self.derived_from is not None:  # the input's symbols that no longer occur
            for name, info in self.derived_from.knows().items():
                shapes.setdefault(name, info)
        return shapes

    def symbols(self) -> list[Symbol]:
        seen: dict[str, Symbol] = {}
        for node in walk(self):
            if isinstance(node, Symbol) and node.name not in seen:
                seen[node.name] = node
        return list(seen.values())

    def children(self) -> tuple[Expr, ...]:
        return ()

    def structure(self) -> str:
        """The tree as constructor calls (what `repr` showed before it showed the text)."""
        raise NotImplementedError

    # -- delegation to the modules that compute ----------------------------------------
    def __str__(self) -> str:
        from .printing import to_text
        return to_text(self)

    def latex(self) -> str:
        from .printing import to_latex
        return to_latex(self)

    def index(self) -> str:
        from ..index.printing import to_index
        return to_index(self)

    def shared(self, min_chars: int | None = None):
        """This tree with its repeated parts named once (`… where t1 = tanh(W1 x)`)."""
        from ..outputs.shared import MIN_CHARS, share
        return share(self, MIN_CHARS if min_chars is None else min_chars)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    @_public
    def subs(self, mapping: dict[str, Any], where: Any = None) -> Expr:
        from .substitute import subs
        return subs(self, mapping, where)

    @_public
    def evaluate(self, values: dict[str, Any], sizes: dict[str, int] | None = None) -> Any:
        from ..numbers.numeric import evaluate
        return evaluate(self, values, sizes=sizes)

    def __lt__(self, other: Expr) -> bool:
        from .printing import sort_key
        return sort_key(self) < sort_key(other)


def _typed(node: Expr) -> Shape:
    if node.ty is None:
        from ..errors import UsageError
        raise UsageError("this expression has no inferred shape: build it with mc.parse")
    return node.ty


@dataclass(frozen=True, slots=True)
class Symbol(Expr):
    name: str
    info: SymbolInfo | None = field(default=None, compare=False, kw_only=True)
    ty: Shape | None = field(default=None, compare=False, kw_only=True)
    span: Span | None = field(default=None, compare=False, kw_only=True)
    derived_from: Derivation | None = field(default=None, compare=False, kw_only=True,
                                            repr=False)

    def __repr__(self) -> str:
        return text_or_structure(self)

    def structure(self) -> str:
        return f"Symbol({self.name!r})"


@dataclass(frozen=True, slots=True)
class Number(Expr):
    """A non-negative exact constant (a negative one is `neg` of a Number)."""

    value: Fraction
    ty: Shape | None = field(default=None, compare=False, kw_only=True)
    span: Span | None = field(default=None, compare=False, kw_only=True)
    derived_from: Derivation | None = field(default=None, compare=False, kw_only=True,
                                            repr=False)

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("Number holds non-negative values; wrap it in neg")

    def __repr__(self) -> str:
        return text_or_structure(self)

    def structure(self) -> str:
        return f"Number({self.value})"

    def as_float(self) -> float:
        """The nearest float: inf past the float range (as 10.0**900 is in numpy), 0.0
        below it, never Python's OverflowError."""
        try:
            return float(self.value)
        except OverflowError:
            return math.inf


@dataclass(frozen=True, slots=True)
class Const(Expr):
    """`I` (identity) or `ones` (all-ones vector); sizes come from the context."""

    name: str
    ty: Shape | None = field(default=None, compare=False, kw_only=True)
    span: Span | None = field(default=None, compare=False, kw_only=True)
    derived_from: Derivation | None = field(default=None, compare=False, kw_only=True,
                                            repr=False)

    def __repr__(self) -> str:
        return text_or_structure(self)

    def structure(self) -> str:
        return f"Const({self.name!r})"


# The slot of a linear map in index form: `dexpm(X, □)` is the map E ↦ dexpm(X, E), one
# factor that carries its value's indices, then the slot's (`index.ir.Factor`). Only
# derivative rules make it and recovery replaces it (`index.linear_maps`): the text never
# parses, and no matrix-form result holds it.
SLOT = "□"


def is_slot(e: Expr) -> bool:
    return isinstance(e, Const) and e.name == SLOT


@dataclass(frozen=True, slots=True)
class Dimension(Expr):
    """The size of a named dimension, used as a scalar: with `X: matrix(n, d)`, `n` in
    `1/(2n)` is the number of rows of X; a derivative that needs a size writes it so
    (d mean(x)/dx = 1/n ones)."""

    name: str
    ty: Shape | None = field(default=None, compare=False, kw_only=True)
    span: Span | None = field(default=None, compare=False, kw_only=True)
    derived_from: Derivation | None = field(default=None, compare=False, kw_only=True,
                                            repr=False)

    def __repr__(self) -> str:
        return text_or_structure(self)

    def structure(self) -> str:
        return f"Dimension({self.name!r})"


@dataclass(frozen=True, slots=True)
class Apply(Expr):
    """An operator of the table applied to arguments; `attrs` holds its fixed parameters."""

    op: str
    args: tuple[Expr, ...]
    attrs: tuple = ()
    ty: Shape | None = field(default=None, compare=False, kw_only=True)
    span: Span | None = field(default=None, compare=False, kw_only=True)
    derived_from: Derivation | None = field(default=None, compare=False, kw_only=True,
                                            repr=False)
    # computed once, when first asked for: the rewriter hashes deep trees over and over
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)
    # the shapes of the I, ones and broadcast numbers inside, in order (see memo_key)
    _sized: tuple | None = field(default=None, init=False, compare=False, repr=False)
    _size: int | None = field(default=None, init=False, compare=False, repr=False)
    _names: frozenset | None = field(default=None, init=False, compare=False, repr=False)
    # (operator table version, SymPy form) once asked for (index.scalars.to_sympy): deep
    # scalar trees are converted again and again by the simplifier's rules
    _scalar: tuple | None = field(default=None, init=False, compare=False, repr=False)
    # (operator table version, text form) once printed (language.printing): rules that
    # order factors by their text print deep subtrees again and again
    _text: tuple | None = field(default=None, init=False, compare=False, repr=False)
    # the factors of a product chain (language.build.factors_of): rules take every
    # product apart, and a chain k long would be flattened again at each of its k levels
    _factors: tuple | None = field(default=None, init=False, compare=False, repr=False)
    # how many of those factors hold no symbol and no size (build.constant_factors)
    _constants: int | None = field(default=None, init=False, compare=False, repr=False)
    # -e, once built (build.negate): a product chain's minus sits on its leftmost factor,
    # so negating one rebuilds the chain's whole left spine
    _negated: Apply | None = field(default=None, init=False, compare=False, repr=False)
    _heads: int | None = field(default=None, init=False, compare=False, repr=False)
    # a node found equal to this one before (see __eq__)
    _equal: Apply | None = field(default=None, init=False, compare=False, repr=False)

    def names(self) -> frozenset:
        """The names of the symbols and sizes (Dimension) inside, computed once: rules ask
        whether a deep subtree holds a variable again and again."""
        if self._names is None:
            object.__setattr__(self, "_names", frozenset().union(*(
                a.names() if isinstance(a, Apply) else
                (a.name,) if isinstance(a, (Symbol, Dimension)) else () for a in self.args)))
        return self._names

    def holds(self, name: str) -> bool:
        """Whether the operator or constant (I, ones) `name` occurs inside, from a bit
        mask computed once: a rule that needs one (an inverse to cancel, a Kronecker
        product to merge) skips at once a product chain that holds none, instead of
        scanning its factors at every level."""
        return bool(self._mask() & _head_bit(name))

    def _mask(self) -> int:
        if self._heads is None:
            mask = _head_bit(self.op)
            for a in self.args:
                mask |= a._mask() if isinstance(a, Apply) else \
                    _head_bit(a.name) if isinstance(a, Const) else 0
            object.__setattr__(self, "_heads", mask)
        return self._heads

    def size(self) -> int:
        """The number of nodes of the tree as printed (shared subtrees counted each time
        they occur), computed once: what the `nodes` limit bounds."""
        if self._size is None:
            object.__setattr__(self, "_size", 1 + sum(
                a.size() if isinstance(a, Apply) else 1 for a in self.args))
        return self._size

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash((self.op, self.args, self.attrs)))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not Apply:
            return NotImplemented if not isinstance(other, Expr) else False
        mine, theirs = _representative(self), _representative(other)
        if mine is theirs:
            return True
        same = (hash(self) == hash(other) and self.op == other.op
                and self.attrs == other.attrs and self.args == other.args)
        if same:  # remembered: equal trees built apart (a DAG and its copy) compare once
            # the node with the higher id points to the other: no two threads can link
            # two nodes both ways, and a chain of links has no cycle
            low, high = sorted((mine, theirs), key=id)
            object.__setattr__(high, "_equal", low)
        return same

    def sized_leaves(self) -> tuple:
        if self._sized is None:
            object.__setattr__(self, "_sized",
                               tuple(s for a in self.args for s in _sized_leaves(a)))
        return self._sized

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def __repr__(self) -> str:
        return text_or_structure(self)

    def structure(self) -> str:
        """The tree itself, as constructor calls (the text form is `repr`)."""
        inner = ", ".join(a.structure() for a in self.args)
        attrs = f", attrs={self.attrs!r}" if self.attrs else ""
        return f"Apply({self.op!r}, ({inner}){attrs})"


def _representative(node: Apply) -> Apply:
    """The node that `node` was found equal to, following the links to their end (each
    link goes to a lower id, so the walk ends) and shortening them on the way."""
    root = node
    while root._equal is not None:
        root = root._equal
    while node._equal is not None and node._equal is not root:  # path compression
        following = node._equal
        object.__setattr__(node, "_equal", root)
        node = following
    return root


def text_or_structure(e: Expr) -> str:
    """repr of a node (SPEC section 4: the text form, not the tree); the tree where a
    half-built node cannot be printed yet."""
    try:
        return str(e)
    except Exception:  # noqa: BLE001 - a repr must not raise
        return e.structure()


def walk(root: Expr) -> Iterator[Expr]:
    """Every node, parents before children, left to right (iterative: no depth limit)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))


_HEAD_BITS: dict[str, int] = {}  # operator or constant name -> its bit in Apply._mask
_HEAD_BITS_LOCK = threading.Lock()


def _head_bit(name: str) -> int:
    bit = _HEAD_BITS.get(name)
    if bit is None:
        with _HEAD_BITS_LOCK:
            bit = _HEAD_BITS.setdefault(name, 1 << len(_HEAD_BITS))
    return bit


def distinct_nodes(root: Expr) -> Iterator[Expr]:
    """Every node object once, parents before children: a subtree shared by several
    parents (as the chain rule shares an inner function and its derivative) is visited
    once, so a pass that needs each node, not each occurrence, follows the work."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(reversed(node.children()))


def _sized_leaves(e: Expr) -> tuple:
    if isinstance(e, Apply):
        return e.sized_leaves()
    if isinstance(e, Const) or (isinstance(e, Number) and e.ty is not None
                                and not e.ty.is_scalar):
        return (e.ty,)
    return ()


# Names the engine gives symbols of its own (a folded Jacobian held while the outer levels
# are derived, calculus.diff): no name a user can write, and refused in a built tree.
ENGINE_NAMES = "∂#"


def names_in(e: Expr) -> frozenset:
    """The names of the symbols and sizes in `e` (cached on its operator nodes)."""
    if isinstance(e, Apply):
        return e.names()
    return frozenset((e.name,)) if isinstance(e, (Symbol, Dimension)) else frozenset()


def memo_key(e: Expr) -> Any:
    """A key for remembering results about `e`: its structure, and where it holds `I`,
    `ones` or a broadcast number (equal whatever their sizes), those sizes too, so that
    ones (n) and ones (m) are not confused."""
    sized = _sized_leaves(e)
    return (e, sized) if sized else e


def untyped(e: Expr) -> Expr:
    """The same tree with every shape annotation cleared, ready to be inferred afresh."""
    if isinstance(e, Apply):
        return replace(e, args=tuple(untyped(a) for a in e.args), ty=None)
    return replace(e, ty=None)


def substituted(e: Expr, values: dict[str, Expr]) -> Expr:
    """e with the named symbols replaced by trees (simultaneously); shapes kept, so re-type
    where a replacement changes one."""
    if isinstance(e, Symbol) and e.name in values:
        return values[e.name]
    if isinstance(e, Apply):
        args = tuple(substituted(a, values) for a in e.args)
        return e if all(x is y for x, y in zip(args, e.args)) else replace(e, args=args)
    return e


def put_back(e: Expr, values: dict[str, Expr], done: dict[int, Expr], keep: list) -> Expr:
    """e with each engine symbol (ENGINE_NAMES) that `values` names replaced by its value,
    itself put back: what the engine held as symbols while it worked (folded Jacobians,
    the levels of a Hessian). Each node object once, iteratively (the held parts nest as
    deep as the expression); `done` maps the ids of nodes handled to their results (it
    may be kept between calls) and `keep` holds those nodes alive."""
    stack = [(e, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in done:
            continue
        if isinstance(node, Symbol) and node.name in values:
            value = values[node.name]
            if id(value) in done:
                done[id(node)] = done[id(value)]
                keep.append(node)
            else:
                stack += [(node, False), (value, False)]
        elif not isinstance(node, Apply) or not any(
                n.startswith(ENGINE_NAMES) for n in node.names()):
            done[id(node)] = node
            keep.append(node)
        elif ready:
            done[id(node)] = replace(node, args=tuple(done[id(a)] for a in node.args))
            keep.append(node)
        else:
            stack.append((node, True))
            stack += [(a, False) for a in node.args if id(a) not in done]
    return done[id(e)]


def with_infos(e: Expr, infos: dict[str, SymbolInfo]) -> Expr:
    """The same tree with the named symbols' infos replaced (kinds, dimensions and
    assumptions as given); other nodes untouched."""
    if isinstance(e, Symbol) and e.name in infos:
        return replace(e, info=infos[e.name])
    if isinstance(e, Apply):
        args = tuple(with_infos(a, infos) for a in e.args)
        return e if all(x is y for x, y in zip(args, e.args)) else replace(e, args=args)
    return e


def with_args(node: Apply, args: tuple[Expr, ...]) -> Apply:
    return replace(node, args=args, ty=None)


def number(value: int | Fraction | str) -> Expr:
    """A numeric constant as a tree: non-negative values are a Number, others neg(Number)."""
    frac = Fraction(value)
    if frac < 0:
        return Apply("neg", (Number(-frac),))
    return Number(frac)
