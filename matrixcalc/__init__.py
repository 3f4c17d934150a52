"""matrixcalc: symbolic matrix calculus with closed forms checked against torch.autograd.

The public API only; see SPEC.md section 5.
"""

from .check import CheckReport, Counterexample, Verdict, check, verify
from .errors import (MatrixCalcError, ParseError, ShapeError, TableError, UnsupportedError,
                     UsageError)
from .expr import Apply, Const, Expr, Number, Symbol, SymbolInfo
from .parse import Statement, parse, parse_statement

__all__ = [
    "Apply", "CheckReport", "Const", "Counterexample", "Expr", "MatrixCalcError", "Number",
    "ParseError", "ShapeError",
    "Statement", "Symbol", "SymbolInfo", "TableError", "UnsupportedError", "UsageError",
    "Verdict", "check", "parse", "parse_statement", "verify",
]
__version__ = "0.1.0"
