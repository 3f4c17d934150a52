"""The operator table: importing this package registers every built-in operator.

The families, in order (each may use the ones before it): arithmetic (sums, products,
transpose), structure (trace, sum, vec, diag, Kronecker products, literals), linalg
(inverses, powers, determinants, norms, π), elementwise (functions entry by entry,
softmax, logsumexp).
"""

from .spec import FUNCTIONS, REGISTRY, OpSpec, lookup, register  # noqa: I001 (first)
from . import arithmetic, structure, linalg, elementwise  # noqa: F401,E402 (registration)

__all__ = ["FUNCTIONS", "REGISTRY", "OpSpec", "lookup", "register"]
