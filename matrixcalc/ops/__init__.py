"""The operator table: importing this package registers every built-in operator.

The families, in order (each may use the ones before it): arithmetic (sums, products,
transpose), structure (trace, sum, vec, diag, Kronecker products, literals), powers
(inverses, matrix and scalar powers), determinants (det, logdet), norms (vector and
Frobenius norms), constants (π), elementwise (functions entry by entry, softmax,
logsumexp), linear_maps (Fréchet derivatives, the Sylvester solve, Cholesky's
Φ) and matrix_functions (expm, logm, sqrtm, pinv, chol, eigenvalues, matrix norms).
"""

from .spec import FUNCTIONS, REGISTRY, OpSpec, lookup, register  # noqa: I001 (first)
from . import arithmetic, structure, powers, determinants, norms  # noqa: F401,E402 (registration)
from . import constants, elementwise  # noqa: F401,E402 (registration)
from . import linear_maps, matrix_functions  # noqa: F401,E402 (registration)

__all__ = ["FUNCTIONS", "REGISTRY", "OpSpec", "lookup", "register"]
