"""matrixcalc: symbolic matrix calculus with closed forms checked against torch.autograd.

The public API only; see SPEC.md section 5.
"""

from .budget import Limits, limits
from .errors import (
    KindWarning,
    LimitError,
    MatrixCalcError,
    ParseError,
    ShapeError,
    TableError,
    TableWarning,
    UnsupportedError,
    UsageError,
)
from .language.expr import Apply, Const, Expr, Number, Symbol, SymbolInfo
from .language.parse import Statement, parse, parse_statement

__all__ = [
    "Apply", "Const", "Expr", "KindWarning", "LimitError", "Limits", "MatrixCalcError", "Number",
    "ParseError", "ShapeError", "Statement", "Symbol", "SymbolInfo", "TableError",
    "TableWarning", "UnsupportedError", "UsageError", "limits", "parse", "parse_statement",
]
__version__ = "0.1.0"

# The engine loads SymPy, the checker numpy and torch: each is imported on first use, so
# that `import matrixcalc` stays light (PEP 562 module __getattr__).
_LAZY = {
    # derivatives and simplification (calculus/): SymPy
    "derive": "calculus.derive", "jacobian": "calculus.derive", "hessian": "calculus.derive",
    "simplify": "calculus.derive", "jvp": "calculus.modes", "vjp": "calculus.modes",
    "hvp": "calculus.modes", "explain": "calculus.explain",
    # numeric truth (numbers/): numpy, torch
    "check": "numbers.check", "verify": "numbers.check", "CheckReport": "numbers.reports",
    "Counterexample": "numbers.reports", "Verdict": "numbers.reports",
    # identity tables (table/, SPEC section 6)
    "tables": "table.tables", "load_table": "table.tables",
    # outputs: generated code, torch.autograd.Function, SymPy interop (outputs/)
    "lambdify": "outputs.codegen.api", "value_and_grad": "outputs.codegen.api",
    "autograd_function": "outputs.autograd", "to_sympy": "outputs.sympy_interop",
    "from_sympy": "outputs.sympy_interop",
}
__all__ += list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'matrixcalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
