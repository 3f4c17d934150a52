"""The public entry points of generated code: `lambdify` (the value of one or more
expressions) and `value_and_grad` (a scalar's value with its gradients), each a compiled
function whose inputs are refused where they are complex."""

from __future__ import annotations

import re
from collections.abc import Callable

from ...errors import UsageError
from ...guard import public
from ...language.expr import Expr, Symbol
from ...language.parse import as_expr
from .source import Output, compile_source, generate


def _finish(raw: Callable, source: str, inputs: list[str], backend: str,
            outputs: list[Expr]) -> Callable:
    from ...numbers.numeric import is_complex

    def function(*args, **kwargs):
        """The generated function, its inputs first refused where they are complex (the
        code computes with reals; numpy would drop the imaginary part or fail later)."""
        given = list(zip(inputs, args)) + list(kwargs.items())
        for name, value in given:
            if is_complex(value):
                raise UsageError(f"the value of `{name}` is complex; the generated code "
                                 "computes with real numbers")
        return raw(*args, **kwargs)

    function.__doc__ = raw.__doc__
    function.source = source
    function.inputs = tuple(inputs)
    function.backend = backend
    function.outputs = tuple(outputs)
    return function


@public
def lambdify(expr, backend: str = "numpy", *, wrt=None, where=None) -> Callable:
    """A Python function computing `expr` from keyword (or positional) arguments.

    expr: text, an Expr (a derivative result too), or a list/tuple of them (the function
    then returns a tuple, sharing common work). With `wrt` (a name or a list of names),
    the function returns `(value, gradient)` (`(value, (g1, g2, ...))` for a list): see
    `value_and_grad`. Inputs and outputs are SPEC section 5's forms; arguments that are
    not inputs are ignored. `.source` is the generated code, `.inputs` the input names.
    A dimension no input fixes (`tr(I)`) is read from a `sizes={"n": 3}` argument.
    """
    if wrt is not None:
        return value_and_grad(expr, wrt, where=where, backend=backend)
    many = isinstance(expr, (list, tuple))
    exprs = [as_expr(e, where, tensors=True) for e in (expr if many else [expr])]
    if not exprs:
        raise UsageError("lambdify needs at least one expression")
    names = ["result"] if not many else [f"result{k}" for k in range(len(exprs))]
    structure = tuple(range(len(exprs))) if many else 0
    doc = "; ".join(str(e) for e in exprs)
    source, inputs, renamed = generate([Output(e, n) for e, n in zip(exprs, names)],
                                       structure, backend, doc)
    return _finish(compile_source(source, renamed, backend), source, inputs, backend, exprs)


@public
def value_and_grad(expr, wrt, *, where=None, backend: str = "numpy") -> Callable:
    """A function returning (value, gradient) of a scalar `expr`, the way
    matrixcalculus.org's fAndG does: the value and the derivative(s) with respect to
    `wrt` share their common subexpressions. `wrt` a list: (value, (g1, g2, ...))."""
    derive = engine_derive()
    e = as_expr(expr, where)
    if not e.ty.is_scalar:
        raise UsageError(f"value_and_grad takes a scalar function, not {e.ty.describe()}",
                         hint="use lambdify(mc.derive(...)) for a Jacobian")
    many = isinstance(wrt, (list, tuple))
    names = [w.name if isinstance(w, Symbol) else str(w).strip()
             for w in (wrt if many else [wrt])]
    grads = derive(e, names if many else names[0], where=where)
    grads = list(grads) if many else [grads]
    outputs = [Output(e, "value")] + [Output(gr, f"grad_{_ident(n)}")
                                      for gr, n in zip(grads, names)]
    structure = (0, tuple(range(1, len(outputs)))) if many else (0, 1)
    doc = f"{e} and its gradient with respect to {', '.join(names)}"
    source, inputs, renamed = generate(outputs, structure, backend, doc)
    return _finish(compile_source(source, renamed, backend), source, inputs, backend,
                   [o.expr for o in outputs])


def engine_derive() -> Callable:
    """The engine's `derive`, imported when first needed (it loads SymPy)."""
    from ...calculus.derive import derive
    return derive


def _ident(name: str) -> str:
    text = re.sub(r"\W", "_", name)
    return text if text.isidentifier() else "x"


__all__ = ["lambdify", "value_and_grad"]
