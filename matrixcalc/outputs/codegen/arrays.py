"""Sizes and arrays in generated code: where a dimension's size is read (an input's
shape, else the `sizes` argument), the constants I and ones, filled arrays, and the einsum
products of an order-3/4 derivative."""

from __future__ import annotations

import re

from ...calculus.tensor import TensorResult, einsum_plan
from ...errors import UnsupportedError
from ...index.ir import Factor
from ...index.scalars import from_sympy
from ...language.expr import Const
from ...language.shapes import ONE, SCALAR, Dim, Shape
from .checks import AXIS_READ, kind_text
from .operand import Operand


class Arrays:
    """The Generator's sizes and built arrays (a mixin: `emit`, `known`, `params`,
    `dims_used`, `helpers`, `tensor` and `xp` are the Generator's)."""

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
                    return f"_mc_axis({name!r}, {value}, {axis}, {kind_text(info)!r})"
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
