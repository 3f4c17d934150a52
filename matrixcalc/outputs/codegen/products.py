"""Product chains in generated code: a product of matrices and scalars flattened, its
scalars applied to the smallest operand, diag(v) kept as v and M^-1 solved rather than
formed, and the matrices multiplied in the cheapest order (the matrix-chain dynamic
program, or linalg.multi_dot where the sizes are only known at call time)."""

from __future__ import annotations

from dataclasses import replace

from ...language.expr import Apply, Expr
from ...language.shapes import Dim, Shape, dim_size
from .gram import GRAM, gram_parts
from .operand import Operand

BIG = 1000  # the size a symbolic dimension is assumed to have when ordering products
CHAIN_ORDERED = 32  # factors of a product ordered at once (the ordering is cubic)


def _is_diag(node: Expr) -> bool:
    return isinstance(node, Apply) and node.op == "diag_matrix"


def _size(dim: Dim) -> int:
    return dim_size(dim, {}, missing=BIG)


class ProductChains:
    """The Generator's products (a mixin: `emit`, `key`, `refs`, `names`, `dim`, `call`,
    `tensor` and `xp` are the Generator's)."""

    def chain(self, node: Apply) -> Operand:
        """A product of matrices and scalars, multiplied in the cheapest order."""
        factors: list[Expr] = []
        scalars: list[Expr] = []
        self._flatten(node, factors, scalars, top=True)
        gram = self.backend == "numpy" and gram_parts(factors)
        if gram:  # one operand, the whole product's: scalars scale the result
            factors, ops = [node], [self._gram(node, *gram)]
        else:
            ops = [self._diagonal(f) if _is_diag(f) and len(factors) > 1 else
                   self._inverse(f) if self._solvable(f) and len(factors) > 1 else
                   self.emit(f) for f in factors]
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

    def _gram(self, node: Apply, base: Expr, weights: Expr) -> Operand:
        """base^T diag(weights) base: a symmetric rank-k product (gram.py)."""
        code = self.helper("_mc_gram", GRAM, self.emit(base), self.emit(weights))
        return Operand(code, node.ty, False)

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
