"""matrixcalc: symbolic matrix calculus with closed forms checked against torch.autograd.

The public API only; see SPEC.md section 5.
"""

from .errors import (MatrixCalcError, ParseError, ShapeError, TableError, UnsupportedError,
                     UsageError)
from .expr import Apply, Const, Expr, Number, Symbol, SymbolInfo
from .parse import Statement, parse, parse_statement

__all__ = [
    "Apply", "Const", "Expr", "MatrixCalcError", "Number", "ParseError", "ShapeError",
    "Statement", "Symbol", "SymbolInfo", "TableError", "UnsupportedError", "UsageError",
    "parse", "parse_statement",
]
__version__ = "0.1.0"
