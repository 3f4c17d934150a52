"""The operator table: importing this package registers every built-in operator."""

from . import elementwise, linalg, linear  # noqa: F401  (registration side effects)
from .spec import FUNCTIONS, REGISTRY, OpSpec, lookup, register

__all__ = ["FUNCTIONS", "REGISTRY", "OpSpec", "lookup", "register"]
