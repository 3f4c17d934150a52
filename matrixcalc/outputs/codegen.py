"""Generated numpy / torch code: `lambdify` and `value_and_grad` (SPEC section 5).

The source text is built from the expression tree alone (each operator's record holds
its template for each backend, `OpSpec.code`), then compiled; no user text is ever
evaluated: symbol names are checked to be Python identifiers (others are renamed),
numbers are printed from their exact values, and the expression's own text appears only
as a `repr` string literal. Helpers the code defines are named `_mc_…`, which no
parameter may be.

Invariants of the generated code:
- values are in the user forms of SPEC section 5 and stay so inside: scalars are floats
  (0-d tensors for torch), vectors AND row vectors 1-D, matrices 2-D; a row vector is
  reshaped to 1×n only when returned. No 2-D-everything detour as in `numbers/numeric.py`.
- common subexpressions are computed once: structurally equal subtrees (of equal shape
  where constants make the shape matter) get one temporary, across all outputs;
- matrix chains are multiplied in the cheapest order: nested `matmul` / scaling nodes
  that are used once are flattened, scalar factors are pulled out and applied to the
  smallest operand (or the result), and the order is the classic matrix-chain dynamic
  program over the operand shapes, a symbolic dimension counted as `BIG`, a vector's
  unit dimension as 1.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..calculus.tensor import TensorResult, einsum_plan
from ..errors import MatrixCalcError, UnsupportedError, UsageError
from ..guard import public
from ..index.ir import Factor
from ..index.scalars import from_sympy
from ..language.expr import Apply, Const, Dimension, Expr, Number, Symbol
from ..language.parse import as_expr
from ..language.shapes import ONE, SCALAR, Dim, Shape, dim_size, dim_text
from ..ops.spec import BACKENDS, lookup
from ..optional import require
from .transposes import transposed_partners

BIG = 1000  # the size a symbolic dimension is assumed to have when ordering products
CHAIN_ORDERED = 32  # factors of a product ordered at once (the ordering is cubic)
F64 = "dtype=torch.float64"


@dataclass(frozen=True)
class Operand:
    """Generated code for one value: `raw` as written, `code` safe as an operand."""

    raw: str
    shape: Shape
    pyfloat: bool  # a plain Python number (a subtree of numbers only)
    diagonal: str | None = None  # for diag(v) in a product: v's code (never built n×n)
    inverse_of: str | None = None  # for M^-1 in a product: M's code (solved, not inverted)
    tensor_order: int = 0  # an order-3/4 derivative (einsum code), returned as it is
    ones: bool = False  # the all-ones vector: an outer product with it is a broadcast

    @property
    def code(self) -> str:
        return self.raw if is_atomic(self.raw) else f"({self.raw})"

    @property
    def kind(self) -> str:
        return self.shape.kind


_NAME = re.compile(r"[^\W\d][\w.]*$")
_NUMBER = re.compile(r"\d[\w.]*$")
_CALL = re.compile(r"([^\W\d][\w.]*)?\(")


def _is_diag(node: Expr) -> bool:
    return isinstance(node, Apply) and node.op == "diag_matrix"


def is_atomic(code: str) -> bool:
    """A name, a plain number, or a call / parenthesized group spanning the whole text."""
    if _NAME.match(code) or _NUMBER.match(code):
        return True
    start = _CALL.match(code)
    if not start or not code.endswith(")"):
        return False
    depth = 0
    for position in range(start.end() - 1, len(code)):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(code[position], 0)
        if depth == 0:
            return position == len(code) - 1
    return False


# The names the generated code itself uses; a user's symbol is renamed away from them.
RESERVED = frozenset({"np", "jnp", "jax", "scipy", "torch", "f", "float", "int", "unused",
                      "sizes"}) | frozenset(keyword.kwlist)
HEADERS = {"numpy": ["import numpy as np"], "torch": ["import torch"],
           "jax": ["import jax", "import jax.numpy as jnp"]}
MODULES = {"numpy": "np", "torch": "torch", "jax": "jnp"}


# -- the generator ---------------------------------------------------------------------------

def _size(dim: Dim) -> int:
    return dim_size(dim, {}, missing=BIG)


class Generator:
    """Builds the body of one function computing `outputs` (shared temporaries)."""

    def __init__(self, backend: str, outputs: Sequence[Expr],
                 bound: dict[str, str] | None = None) -> None:
        self.backend = backend
        self.outputs = list(outputs)
        self.symbols: dict[str, Symbol] = {}
        for out in self.outputs:
            for s in out.symbols():
                self.symbols.setdefault(s.name, s)
        self.params: dict[str, str] = {}
        chosen: set[str] = set()  # the params' values (a set: 10,000 inputs are linear)
        for name in self.symbols:
            param = self._param_name(name)
            while param in chosen:
                param += "_"
            self.params[name] = param
            chosen.add(param)
        self.taken = chosen | RESERVED
        self.refs: dict[Any, int] = {}
        self.names: dict[Any, Operand] = {}
        self.lines: list[str] = []
        self.helpers: dict[str, str] = {}  # name -> source of a helper function
        self.imports: set[str] = set()
        self.bound = bound or {}  # symbols that stand for code (a definition's x)
        self.dims_used: dict[str, str] = {}
        # every symbol the outputs know (also those a derivative no longer holds: d x/dx
        # is I of x's size): where a dimension's size can be read
        self.known = {name: info for out in self.outputs
                      for name, info in _known_infos(out).items()}
        self.needs_sizes = False
        self._plain: dict[int, tuple[Expr, bool]] = {}
        self._counter = itertools.count(1)
        seen: set = set()
        for out in self.outputs:
            self._count(out, seen)
        # a matrix whose transpose is also needed is computed once (transposes.py)
        self.partners = transposed_partners(self.outputs, self.key)
        for partner in self.partners.values():  # each of a pair counts its partner's use
            self.refs[self.key(partner)] = self.refs.get(self.key(partner), 0) + 1

    # -- names ---------------------------------------------------------------------------
    def _param_name(self, name: str) -> str:
        if name.isidentifier() and not keyword.iskeyword(name) and name not in RESERVED \
                and not re.fullmatch(r"t\d+|dim_\w+|grad_\w+|_.*", name):
            return name
        base = re.sub(r"\W", "_", name) if name.isidentifier() else "arg"
        return f"{base}_" if (base + "_").isidentifier() else "arg_"

    def fresh(self, stem: str = "t") -> str:
        while True:
            name = stem if stem != "t" else f"t{next(self._counter)}"
            if name not in self.taken:
                self.taken.add(name)
                return name
            stem = "t" if stem == "t" else f"{stem}_"

    # -- common subexpressions -----------------------------------------------------------
    def key(self, node: Expr) -> Any:
        """Structural identity; the shape joins it where constants take it from context."""
        return node if self._context_free(node) else (node, node.ty)

    def _context_free(self, node: Expr) -> bool:
        cached = self._plain.get(id(node))
        if cached is not None:
            return cached[1]
        if isinstance(node, Const) or (isinstance(node, Number) and node.ty is not None
                                       and not node.ty.is_scalar):
            known = False
        else:
            known = all(self._context_free(a) for a in node.children())
        # the node is kept with its answer: a temporary's id is never reused meanwhile
        self._plain[id(node)] = (node, known)
        return known

    def _count(self, root: Expr, seen: set) -> None:
        stack = [root]
        self.refs[self.key(root)] = self.refs.get(self.key(root), 0) + 1
        while stack:
            node = stack.pop()
            key = self.key(node)
            if key in seen:
                continue
            seen.add(key)
            for child in node.children():
                child_key = self.key(child)
                self.refs[child_key] = self.refs.get(child_key, 0) + 1
                stack.append(child)

    # -- emission ------------------------------------------------------------------------
    def emit(self, node: Expr, name: str | None = None) -> Operand:
        key = self.key(node)
        if key in self.names:
            return self.names[key]
        partner = self.partners.get(key)
        if partner is not None and self.key(partner) in self.names:
            return Operand(f"{self.names[self.key(partner)].code}.T", node.ty, False)
        if node.ty is None and not node.is_tensor:
            raise UsageError("this expression has no inferred shape: build it with mc.parse")
        if isinstance(node, Symbol):
            if node.name in self.bound:
                return Operand(self.bound[node.name], node.ty, False)
            return Operand(self.params[node.name], node.ty, False)
        if isinstance(node, Number):
            value = node.as_float()  # past the float range, 1e999: inf with no name
            text = repr(value) if math.isfinite(value) else "1e999"
            if node.ty.is_scalar:
                return Operand(text, node.ty, True)
            operand = Operand(self.full(node.ty, text), node.ty, False)
        elif isinstance(node, Const):
            operand = Operand(self.constant(node), node.ty, False, ones=node.name == "ones")
        elif isinstance(node, Dimension):
            return Operand(self.dim((node.name,)), node.ty, True)
        elif isinstance(node, TensorResult):
            operand = self.einsum(node)
        elif isinstance(node, Apply):
            template = lookup(node.op).template(self.backend)
            if template is None:
                raise UnsupportedError(f"no {self.backend} code for the operator `{node.op}`",
                                       hint="its record (matrixcalc/ops) needs `code=`")
            if node.op in ("mul", "matmul"):
                operand = self.chain(node)
            else:
                args = [self.emit(arg) for arg in node.args]
                pyfloat = all(a.pyfloat for a in args) and node.ty.is_scalar \
                    and "number_code" in lookup(node.op).flags
                operand = Operand(self.render(template, node, args), node.ty, pyfloat,
                                  ones=node.op == "transpose" and args[0].ones)
        else:
            raise TypeError(f"not an expression node: {node!r}")
        if _NAME.match(operand.raw):  # a name already: no temporary needed
            self.names[key] = operand
        elif name is not None or self.refs.get(key, 0) > 1:
            target = name or self.fresh()
            self.lines.append(f"{target} = {operand.raw}")
            operand = replace(operand, raw=target, diagonal=None)
            self.names[key] = operand
        return operand

    def chain(self, node: Apply) -> Operand:
        """A product of matrices and scalars, multiplied in the cheapest order."""
        factors: list[Expr] = []
        scalars: list[Expr] = []
        self._flatten(node, factors, scalars, top=True)
        ops = [self._diagonal(f) if _is_diag(f) and len(factors) > 1 else
               self._inverse(f) if self._solvable(f) and len(factors) > 1 else self.emit(f)
               for f in factors]
        scales = [self.emit(s) for s in scalars]
        scale = " * ".join(s.code for s in scales)
        pyfloat = all(x.pyfloat for x in ops + scales)
        if not ops:
            return Operand(scale, node.ty, pyfloat)
        sizes = [_size(f.ty.rows) * _size(f.ty.cols) for f in factors]
        smallest = min(range(len(ops)), key=lambda k: sizes[k])
        scale_leaf = scale and sizes[smallest] < _size(node.ty.rows) * _size(node.ty.cols)
        if scale_leaf:
            leaf = ops[smallest]
            diagonal = leaf.diagonal and f"({scale} * {leaf.diagonal})"
            ops[smallest] = Operand(f"{scale} * {leaf.code}", leaf.shape, False, diagonal)
        result = self._multi_dot(ops) or self._order(ops)
        if scale and not scale_leaf:
            return Operand(f"{scale} * {result.code}", node.ty, pyfloat)
        return Operand(result.raw, node.ty, pyfloat)

    def _flatten(self, node: Expr, factors: list, scalars: list, top: bool = False) -> None:
        key = self.key(node)
        inline = isinstance(node, Apply) and node.op in ("mul", "matmul") and (
            top or (self.refs.get(key, 0) <= 1 and key not in self.names))
        if not inline:
            factors.append(node)
            return
        for arg in node.args:
            if node.op == "mul" and arg.ty.is_scalar:
                scalars.append(arg)
            else:
                self._flatten(arg, factors, scalars)

    def _order(self, ops: list[Operand]) -> Operand:
        """The matrix-chain dynamic program (cost of (p×q)(q×r) is p·q·r); a chain longer
        than CHAIN_ORDERED (cubic to order) is ordered in pieces of that length, each
        piece's product a line of its own."""
        if len(ops) > CHAIN_ORDERED:
            pieces = [self._order(ops[k:k + CHAIN_ORDERED])
                      for k in range(0, len(ops), CHAIN_ORDERED)]
            pieces = [replace(p, raw=self.temporary(p.raw), diagonal=None)
                      if not p.diagonal else p for p in pieces]
            return self._order(pieces)
        n = len(ops)
        dims = [_size(ops[0].shape.rows)] + [_size(op.shape.cols) for op in ops]
        cost = [[0] * n for _ in range(n)]
        split = [[0] * n for _ in range(n)]
        for length in range(2, n + 1):
            for i in range(n - length + 1):
                j = i + length - 1
                cost[i][j], split[i][j] = min(
                    (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                    for k in range(i, j))

        def build(i: int, j: int) -> Operand:
            if i == j:
                return ops[i]
            k = split[i][j]
            return self.product(build(i, k), build(k + 1, j))
        return build(0, n - 1)

    def _diagonal(self, node: Apply) -> Operand:
        """diag(v) as a factor of a product: kept as v, applied by broadcasting."""
        vector = self.emit(node.args[0])
        return Operand(self.call("diag", vector), node.ty, False, diagonal=vector.code)

    def product(self, left: Operand, right: Operand) -> Operand:
        shape = Shape(left.shape.rows, right.shape.cols)
        pyfloat = left.pyfloat and right.pyfloat
        solved = self._solve(left, right, shape)
        if solved is not None:
            return solved
        if left.diagonal and right.diagonal:
            both = f"({left.diagonal} * {right.diagonal})"
            return Operand(self.call("diag", both), shape, False, diagonal=both)
        if left.diagonal:  # diag(v) M scales M's rows
            rows = left.diagonal if right.kind == "vector" else f"{left.diagonal}[:, None]"
            return Operand(f"{rows} * {self._unwrapped(right)}", shape, False)
        if right.diagonal:  # M diag(v) scales M's columns
            return Operand(f"{self._unwrapped(left)} * {right.diagonal}", shape, False)
        if left.shape.is_scalar or right.shape.is_scalar:
            return Operand(f"{left.code} * {right.code}", shape, pyfloat)
        if left.kind == "vector" and right.kind == "row vector":
            if left.ones or right.ones:  # v ones^T, ones w^T: a view, never filled
                return Operand(self.broadcast(left, right, shape), shape, False)
            return Operand(self.call("outer", left, right), shape, False)
        return Operand(f"{left.code} @ {right.code}", shape, False)

    def broadcast(self, left: Operand, right: Operand, shape: Shape) -> str:
        """v ones^T or ones w^T as a broadcast view of v or w (no n×m array filled)."""
        size = f"({self.dim(shape.rows)}, {self.dim(shape.cols)})"
        spread = f"{left.code}[:, None]" if right.ones else f"{right.code}[None, :]"
        return f"{self.xp}.broadcast_to({spread}, {size})"

    def temporary(self, code: str) -> str:
        """`code` computed on a line of its own; its temporary's name."""
        name = self.fresh()
        self.lines.append(f"{name} = {code}")
        return name

    def _unwrapped(self, operand: Operand) -> str:
        if operand.diagonal:
            return self.call("diag", operand.diagonal)
        if operand.inverse_of:
            return f"{self.xp}.linalg.inv({operand.inverse_of})"
        return operand.code

    def _solvable(self, node: Expr) -> bool:
        """M^-1 as a factor used once: multiplied by solving, never formed."""
        return isinstance(node, Apply) and node.op == "inv" and self.refs.get(
            self.key(node), 0) <= 1 and self.key(node) not in self.names

    def _inverse(self, node: Apply) -> Operand:
        matrix = self.emit(node.args[0])
        return Operand(f"{self.xp}.linalg.inv({matrix.raw})", node.ty, False,
                       inverse_of=matrix.code)

    def _solve(self, left: Operand, right: Operand, shape: Shape) -> Operand | None:
        """M^-1 B = solve(M, B); B M^-1 = solve(M^T, B^T)^T (a row vector: solve(M^T, b))."""
        solve = f"{self.xp}.linalg.solve"
        if left.inverse_of and not (right.inverse_of or right.diagonal):
            return Operand(f"{solve}({left.inverse_of}, {self.tensor(right)})", shape, False)
        if right.inverse_of and not (left.inverse_of or left.diagonal):
            matrix = f"{right.inverse_of}.T"
            if left.kind == "row vector":
                return Operand(f"{solve}({matrix}, {self.tensor(left)})", shape, False)
            return Operand(f"{solve}({matrix}, {left.code}.T).T", shape, False)
        return None

    def _multi_dot(self, ops: list[Operand]) -> Operand | None:
        """Three or more matrices: multiplied in the order their sizes at call time make
        cheapest (linalg.multi_dot). A chain that ends in a vector is multiplied from the
        vector (statically: no matrix-matrix product is cheaper)."""
        if len(ops) < 3 or any(op.kind != "matrix" or op.diagonal or op.inverse_of
                               for op in ops):
            return None
        shape = Shape(ops[0].shape.rows, ops[-1].shape.cols)
        args = ", ".join(op.raw for op in ops)
        return Operand(f"{self.xp}.linalg.multi_dot([{args}])", shape, False)

    # -- helpers for templates -------------------------------------------------------------
    @property
    def xp(self) -> str:
        return MODULES[self.backend]

    def render(self, template, node: Apply, args: list[Operand]) -> str:
        """A record's template: a format string ({xp}, {0}, {1}, … the arguments as array
        arguments) or a function of (generator, node, operands)."""
        if callable(template):
            return template(self, node, args)
        return template.format(*(self.tensor(a) for a in args), xp=self.xp)

    def require(self, import_line: str, code: str) -> str:
        """`code`, with `import_line` added to the generated module's header."""
        self.imports.add(import_line)
        return code

    def float64_argument(self) -> str:
        return f", {F64}" if self.backend == "torch" else ""

    def definition(self, node: Apply, operand: Operand) -> str:
        """An elementwise function written by its record's `definition` (an expression in
        x), with x the operand: the code of the definition's tree."""
        from ..language.parse import parse
        spec = lookup(node.op)
        tree = parse(spec.definition, {"x": "scalar"})
        inner = Generator(self.backend, [tree], bound={"x": operand.code})
        inner.taken, inner._counter = self.taken, self._counter  # one namespace
        code = inner.emit(tree).raw
        self.lines += inner.lines
        self.helpers.update(inner.helpers)
        self.imports.update(inner.imports)
        return code

    def call(self, name: str, *args: Operand | str) -> str:
        texts = [self.tensor(a) if isinstance(a, Operand) else a for a in args]
        return f"{self.xp}.{name}({', '.join(texts)})"

    def tensor(self, operand: Operand) -> str:
        """The operand as an array argument (torch functions refuse Python numbers)."""
        if operand.pyfloat and self.backend == "torch":
            return f"torch.tensor({operand.raw}, {F64})"
        return operand.raw

    def numeric(self, operand: Operand) -> str:
        """A Python number as a numpy/torch/JAX scalar (so 1/0 is inf, not an exception;
        the JAX module has no `np`)."""
        if self.backend == "torch":
            return f"torch.tensor({operand.raw}, {F64})"
        return f"{self.xp}.float64({operand.raw})"  # np, or jnp (JAX code has no np)

    def helper(self, name: str, source: str, operand: Operand) -> str:
        self.helpers[name] = source
        return f"{name}({operand.raw})"

    def dim(self, dim: Dim) -> str:
        parts = []
        for atom in dim:
            if isinstance(atom, int):
                parts.append(str(atom))
                continue
            if atom not in self.dims_used:
                self.dims_used[atom] = self._dim_source(atom)
            parts.append(f"dim_{self._dim_ident(atom)}")
        return " * ".join(parts) or "1"

    def _dim_ident(self, atom: str) -> str:
        return re.sub(r"\W", "_", atom)

    def _dim_source(self, atom: str) -> str:
        """Where the generated code reads a dimension's size: an input's shape (one the
        outputs hold, else one passed for a symbol they no longer hold), else `sizes`."""
        for name, info in sorted(self.known.items(), key=lambda k: k[0] not in self.params):
            for axis, dim in ((0, info.rows), (1, info.cols)):
                if dim == (atom,) and info.kind != "scalar":
                    value = self.params[name] if name in self.params else \
                        f"{self.xp}.asarray(unused[{name!r}])"
                    fallback = "" if name in self.params else \
                        f" if {name!r} in unused else sizes[{atom!r}]"
                    self.needs_sizes |= bool(fallback)
                    if fallback:
                        return f"{value}.shape[{axis}]{fallback}"
                    # read through a helper: an input with too few axes (a number for a
                    # vector) is the shape check's ValueError, not an IndexError
                    self.helpers["_mc_axis"] = AXIS_READ
                    return f"_mc_axis({name!r}, {value}, {axis}, {_kind_text(info)!r})"
        self.needs_sizes = True  # no input fixes it: the caller passes sizes={"n": 3}
        return f"sizes[{atom!r}]"

    def constant(self, node: Const) -> str:
        n = self.dim(node.ty.rows)
        extra = self.float64_argument()
        if node.name == "I":
            return f"{self.xp}.eye({n}{extra})"
        if node.name == "ones":
            return f"{self.xp}.ones({n}{extra})"
        raise UnsupportedError(f"no code template for the constant `{node.name}`")

    def full(self, shape: Shape, text: str) -> str:
        dims = [self.dim(d) for d in (shape.rows, shape.cols) if d != ONE]
        size = f"({', '.join(dims)},)" if len(dims) == 1 else f"({', '.join(dims)})"
        extra = self.float64_argument()
        if text == "0.0":
            return f"{self.xp}.zeros({size}{extra})"
        return f"{self.xp}.full({size}, {text}{extra})"

    def einsum(self, t: TensorResult) -> Operand:
        """An order-3/4 derivative: its terms as einsum products (tensor.einsum_plan), in
        jacrev layout."""
        names = {s.name: s for s in t.symbols()}
        parts = []
        for product in einsum_plan(t):
            args = [self._einsum_operand(op) for op in product.operands]
            spec = ",".join(op.subscripts for op in product.operands) + "->" + product.output
            body = f"{self.xp}.einsum({spec!r}, {', '.join(args)})"
            coeff = self.emit(from_sympy(product.coeff, names))
            parts.append(body if coeff.raw == "1.0" else f"{coeff.code} * {body}")
        if not parts:
            dims = ", ".join(self.dim(d) for d in t.dims)
            parts = [f"{self.xp}.zeros(({dims},){self.float64_argument()})"]
        code = " + ".join(parts)
        if t.row_vector_of:  # F a row vector: its user form (1×n) keeps the unit axis
            code = f"({code})[None]"
        return Operand(code, SCALAR, False, tensor_order=len(t.dims))

    def _einsum_operand(self, op) -> str:
        f64 = self.float64_argument()
        if op.kind == "expr" and Factor(op.expr, ()).slot is not None:
            raise UnsupportedError(f"this derivative holds the linear map `{op.expr}` "
                                   "applied to no matrix, which generated code does not "
                                   "write", hint="evaluate it (r.evaluate), or generate "
                                   "code for a gradient, jvp or vjp, where the map applies")
        if op.kind == "expr":
            return self.tensor(self.emit(op.expr))
        if op.kind == "eye":
            return f"{self.xp}.eye({self.dim(op.dims[0])}{f64})"
        if op.kind == "ones":
            return f"{self.xp}.ones({self.dim(op.dims[0])}{f64})"
        p, q = (self.dim(d) for d in op.dims)
        return f"{self.xp}.eye({p} * {q}{f64}).reshape({p} * {q}, {p}, {q})"

    def returned(self, operand: Operand) -> str:
        """An output in its user form: float / 0-d tensor, 1-D, 1×n or 2-D."""
        if operand.tensor_order:
            return operand.raw
        kind = operand.kind
        if kind == "scalar":
            return f"float({operand.raw})" if self.backend == "numpy" else self.tensor(operand)
        if kind == "row vector":
            return f"{operand.code}.reshape(1, -1)"
        return operand.raw


def _known_infos(out: Expr) -> dict:
    try:
        return {name: info for name, info in out.shapes.items() if info is not None}
    except MatrixCalcError:
        return {}


# -- assembling the function -------------------------------------------------------------

@dataclass(frozen=True)
class Output:
    expr: Expr
    name: str  # the preferred variable name


def generate(outputs: Sequence[Output], structure: Any, backend: str,
             doc: str) -> tuple[str, list[str], dict[str, str]]:
    """(source, input names in order, {input name: parameter name}).

    `structure` nests output indices: 0, (0, 1) or (0, (1, 2)); it shapes `return`.
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend `{backend}`: use "
                         + ", ".join(f'"{b}"' for b in BACKENDS))
    g = Generator(backend, [o.expr for o in outputs])
    results = [g.emit(o.expr, name=g.fresh(o.name)) for o in outputs]

    def returned(item) -> str:
        if isinstance(item, tuple):
            inner = ", ".join(returned(x) for x in item)
            return f"({inner},)" if len(item) == 1 else f"({inner})"
        return g.returned(results[item])

    ret = returned(structure)
    if ret.startswith("(") and isinstance(structure, tuple) and len(structure) > 1:
        ret = ret[1:-1]
    prologue = []
    for name, symbol in g.symbols.items():
        param = g.params[name]
        kind = symbol.info.kind if symbol.info else "matrix"
        if backend != "torch" and kind != "scalar":
            prologue.append(f"{param} = {g.xp}.asarray({param})")
        elif backend == "torch":
            extra = f", {F64}" if kind == "scalar" else ""
            prologue.append(f"{param} = torch.as_tensor({param}{extra})")
    checks = _shape_checks(g)  # names the dimensions they use first
    for atom, source in g.dims_used.items():
        prologue.append(f"dim_{g._dim_ident(atom)} = {source}")
    prologue += checks
    params = ", ".join([*g.params.values(), *(["sizes=None"] if g.needs_sizes else []),
                        "**unused"])
    body = [f"    {line}" for line in [repr(doc), *prologue, *g.lines, f"return {ret}"]]
    head = HEADERS[backend] + sorted(g.imports) + [""]
    helpers = [g.helpers[h] for h in sorted(g.helpers)]
    source = "\n".join(head + ["", *[h + "\n" for h in helpers], f"def f({params}):",
                               *body]) + "\n"
    return source, list(g.params), {k: v for k, v in g.params.items() if k != v}


SHAPE_CHECK = '''def _mc_shape(name, value, shape, kind):
    got = tuple(getattr(value, "shape", ()))
    if got != tuple(shape):
        raise ValueError(f"`{name}` is {kind}, expected shape {tuple(shape)} from the "
                         f"other inputs, not {got}")
'''


AXIS_READ = '''def _mc_axis(name, value, axis, kind):
    got = tuple(getattr(value, "shape", ()))
    if len(got) <= axis:
        raise ValueError(f"`{name}` is {kind}, not of shape {got}")
    return got[axis]
'''


def _kind_text(info) -> str:
    """`vector (n)`, `matrix (n×m)`: a symbol's kind and dimensions, as messages say."""
    dims = [d for d in (info.rows, info.cols) if d]
    return info.kind if not dims else f"{info.kind} ({'×'.join(map(dim_text, dims))})"


def _shape_checks(g: Generator) -> list[str]:
    """One line per input: its shape is what the expression implies (as matrixcalculus.org's
    fAndG asserts), with a message naming the symbol and its dimensions."""
    lines = []
    for name, symbol in g.symbols.items():
        info = symbol.info
        if info is None or name in g.bound:
            continue
        dims = [d for d in (info.rows, info.cols) if d]
        expected = ", ".join(g.dim(d) for d in dims) + ("," if len(dims) == 1 else "")
        lines.append(f"_mc_shape({name!r}, {g.params[name]}, ({expected}), "
                     f"{_kind_text(info)!r})")
    if lines:
        g.helpers["_mc_shape"] = SHAPE_CHECK
    return lines


_COUNTER = itertools.count()


def compile_source(source: str, renamed: dict[str, str], backend: str = "numpy") -> Callable:
    """Compile generated source (never user text); keep it for tracebacks."""
    if backend != "numpy":
        require(backend, f"{'JAX' if backend == 'jax' else backend} code")
    filename = f"<matrixcalc-generated-{next(_COUNTER)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - source built from a tree
    function = namespace["f"]
    if not renamed:
        return function
    raw = function

    def function(*args, **kwargs):
        return raw(*args, **{renamed.get(k, k): v for k, v in kwargs.items()})
    return function


def _finish(raw: Callable, source: str, inputs: list[str], backend: str,
            outputs: list[Expr]) -> Callable:
    from ..numbers.numeric import is_complex

    def function(*args, **kwargs):
        """The generated function, its inputs first refused where they are complex (the
        code computes with reals; numpy would drop the imaginary part or fail later)."""
        given = list(zip(inputs, args)) + list(kwargs.items())
        for name, value in given:
            if is_complex(value):
                raise UsageError(f"the value of `{name}` is complex; the generated code "
                                 "computes with real numbers")
        return raw(*args, **kwargs)

    function.__doc__ = raw.__doc__
    function.source = source
    function.inputs = tuple(inputs)
    function.backend = backend
    function.outputs = tuple(outputs)
    return function


@public
def lambdify(expr, backend: str = "numpy", *, wrt=None, where=None) -> Callable:
    """A Python function computing `expr` from keyword (or positional) arguments.

    expr: text, an Expr (a derivative result too), or a list/tuple of them (the function
    then returns a tuple, sharing common work). With `wrt` (a name or a list of names),
    the function returns `(value, gradient)` (`(value, (g1, g2, ...))` for a list): see
    `value_and_grad`. Inputs and outputs are SPEC section 5's forms; arguments that are
    not inputs are ignored. `.source` is the generated code, `.inputs` the input names.
    A dimension no input fixes (`tr(I)`) is read from a `sizes={"n": 3}` argument.
    """
    if wrt is not None:
        return value_and_grad(expr, wrt, where=where, backend=backend)
    many = isinstance(expr, (list, tuple))
    exprs = [as_expr(e, where, tensors=True) for e in (expr if many else [expr])]
    if not exprs:
        raise UsageError("lambdify needs at least one expression")
    names = ["result"] if not many else [f"result{k}" for k in range(len(exprs))]
    structure = tuple(range(len(exprs))) if many else 0
    doc = "; ".join(str(e) for e in exprs)
    source, inputs, renamed = generate([Output(e, n) for e, n in zip(exprs, names)],
                                       structure, backend, doc)
    return _finish(compile_source(source, renamed, backend), source, inputs, backend, exprs)


@public
def value_and_grad(expr, wrt, *, where=None, backend: str = "numpy") -> Callable:
    """A function returning (value, gradient) of a scalar `expr`, the way
    matrixcalculus.org's fAndG does: the value and the derivative(s) with respect to
    `wrt` share their common subexpressions. `wrt` a list: (value, (g1, g2, ...))."""
    derive = engine_derive()
    e = as_expr(expr, where)
    if not e.ty.is_scalar:
        raise UsageError(f"value_and_grad takes a scalar function, not {e.ty.describe()}",
                         hint="use lambdify(mc.derive(...)) for a Jacobian")
    many = isinstance(wrt, (list, tuple))
    names = [w.name if isinstance(w, Symbol) else str(w).strip()
             for w in (wrt if many else [wrt])]
    grads = derive(e, names if many else names[0], where=where)
    grads = list(grads) if many else [grads]
    outputs = [Output(e, "value")] + [Output(gr, f"grad_{_ident(n)}")
                                      for gr, n in zip(grads, names)]
    structure = (0, tuple(range(1, len(outputs)))) if many else (0, 1)
    doc = f"{e} and its gradient with respect to {', '.join(names)}"
    source, inputs, renamed = generate(outputs, structure, backend, doc)
    return _finish(compile_source(source, renamed, backend), source, inputs, backend,
                   [o.expr for o in outputs])


def engine_derive() -> Callable:
    """The engine's `derive`, imported when first needed (it loads SymPy)."""
    from ..calculus.derive import derive
    return derive


def _ident(name: str) -> str:
    text = re.sub(r"\W", "_", name)
    return text if text.isidentifier() else "x"


__all__ = ["BACKENDS", "generate", "is_atomic", "lambdify", "value_and_grad"]
