"""The Generator: the body of one generated function, one line per operator (its
record's template for the backend), structurally equal subtrees computed once into a
temporary, a matrix and its transpose computed once (transposes.py). Products are
products.py's, sizes and built arrays arrays.py's."""

from __future__ import annotations

import itertools
import keyword
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ...calculus.tensor import TensorResult
from ...errors import MatrixCalcError, UnsupportedError, UsageError
from ...language.expr import Apply, Const, Dimension, Expr, Number, Symbol
from ...ops.spec import lookup
from ..transposes import transposed_partners
from .arrays import Arrays
from .operand import NAME, Operand
from .products import ProductChains

F64 = "dtype=torch.float64"


# The names the generated code itself uses; a user's symbol is renamed away from them.
RESERVED = frozenset({"np", "jnp", "jax", "scipy", "torch", "f", "float", "int", "unused",
                      "sizes"}) | frozenset(keyword.kwlist)
MODULES = {"numpy": "np", "torch": "torch", "jax": "jnp"}


class Generator(ProductChains, Arrays):
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
        if NAME.match(operand.raw):  # a name already: no temporary needed
            self.names[key] = operand
        elif name is not None or self.refs.get(key, 0) > 1:
            target = name or self.fresh()
            self.lines.append(f"{target} = {operand.raw}")
            operand = replace(operand, raw=target, diagonal=None)
            self.names[key] = operand
        return operand

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
        from ...language.parse import parse
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

    def helper(self, name: str, source: str, *operands: Operand) -> str:
        self.helpers[name] = source
        return f"{name}({', '.join(operand.raw for operand in operands)})"

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
