"""Constants of the operator table: π (the derivative of erf needs it)."""

from __future__ import annotations

import math

from ..language.shapes import SCALAR
from .spec import ATOM, OpSpec, constant, register


register(OpSpec(
    "pi", 0, ATOM, text=lambda p, node: "pi", latex=lambda p, node: r"\pi",
    shape=lambda ctx, node, types: SCALAR,
    evaluate=lambda B, node: B.scalar(math.pi), derivative=lambda d, node, idx: [],
    title="constant", rule="dπ = 0", scalar=lambda S, node: S.pi,
    differential=constant("dπ = 0"),
    sympy_matrix=lambda S, node, a: S.pi,
    code={"numpy": "np.pi", "torch": "torch.pi", "jax": "jnp.pi"},
    flags=frozenset({"number_code"}),
    source="the circle constant π, as the derivative of erf needs it",
    example="pi α^2", example_where="α: scalar"))
