"""User functions from identity tables' `functions:` (SPEC section 6).

A table can teach the engine a function: elementwise ones through the operator table's
`elementwise` factory, others (a vector or matrix to a scalar) as an operator of their
own; each gets a derivative rule built from the table's `derivative` expression, checked
against its `definition` with torch.autograd on load. Registrations are rolled back when
a table is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import sympy
import yaml

from . import build, diff
from .check import check
from .errors import MatrixCalcError, UnsupportedError
from .expr import Apply, Const, Expr, Number, Symbol, walk
from .ops import FUNCTIONS, REGISTRY, OpSpec, register
from .ops.elementwise import elementwise
from .ops.spec import ATOM, call_latex, call_text
from .parse import parse_quietly
from .shapes import SCALAR
from .table_yaml import NAME_PATTERN, _Mapping, _parse_field, _Source

FUNCTION_KEYS = ("name", "elementwise", "argument", "definition", "derivative", "domain",
                 "source", "note")
ARGUMENT_KINDS = ("vector", "matrix")
FUNCTION_DOMAINS = ("real", "positive", "nonzero")
POINTWISE = frozenset({"add", "neg", "mul", "div", "power"})
RULE_TRIALS = 8  # points at which a user function's rule is checked on load


@dataclass(frozen=True)
class Function:
    name: str
    elementwise: bool
    argument: str  # "scalar" for elementwise functions
    derivative: str
    definition: str | None
    domain: str
    source: str
    line: int


# -- user functions ------------------------------------------------------------------------

_USER_FUNCTIONS: dict[str, Function] = {}  # registered by tables, by name


@contextmanager
def _registrations() -> Iterator[dict]:
    """Record every change to the operator table and the rules; undo them on failure."""
    from .index import lower
    saved = (dict(REGISTRY), dict(FUNCTIONS), dict(diff.RULES),
             dict(diff.ELEMENTWISE_DERIVATIVES), dict(_USER_FUNCTIONS))
    opaque = lower.OPAQUE
    record: dict = {}
    try:
        yield record
    except BaseException:
        lower.OPAQUE = opaque
        for live, old in zip((REGISTRY, FUNCTIONS, diff.RULES, diff.ELEMENTWISE_DERIVATIVES,
                              _USER_FUNCTIONS), saved):
            live.clear()
            live.update(old)
        raise


def _load_function(src: _Source, node: yaml.MappingNode, table_source: str,
                   registry: dict) -> Function:
    name_node = next((v for k, v in node.value if getattr(k, "value", None) == "name"), None)
    name = name_node.value if isinstance(name_node, yaml.ScalarNode) else None
    fields = _Mapping(src, node, name, FUNCTION_KEYS, "a function")
    name = fields.text("name", required=True)
    if not NAME_PATTERN.match(name):
        raise src.error(fields.node_of("name"), name, "name",
                        "a function name is a letter followed by letters, digits or `_`")
    if (name in REGISTRY or name in FUNCTIONS) and name not in _USER_FUNCTIONS:
        raise src.error(fields.node_of("name"), name, "name",
                        f"`{name}` is a built-in operator; choose another name")
    if name in registry:
        raise src.error(fields.node_of("name"), name, "name",
                        f"`{name}` is defined twice in this table")
    is_elementwise = fields.flag("elementwise")
    argument = "scalar"
    if "argument" in fields:
        argument = fields.text("argument")
        if is_elementwise or argument not in ARGUMENT_KINDS:
            raise src.error(fields.node_of("argument"), name, "argument",
                            "`argument` is `vector` or `matrix`, for a non-elementwise "
                            "function only")
    elif not is_elementwise:
        argument = "vector"
    domain = fields.text("domain") or "real"
    if domain not in FUNCTION_DOMAINS:
        raise src.error(fields.node_of("domain"), name, "domain",
                        f"`domain` is one of {', '.join(FUNCTION_DOMAINS)}")
    function = Function(name, is_elementwise, argument,
                        fields.text("derivative", required=True, expression=True),
                        fields.text("definition", expression=True), domain,
                        fields.text("source") or table_source or f"table {src.path}",
                        fields.node.start_mark.line + 1)
    where = {"x": argument}
    derivative = _function_expr(src, fields, function, "derivative", where)
    definition = (_function_expr(src, fields, function, "definition", where)
                  if function.definition else None)
    _check_function_shapes(src, fields, function, derivative, definition)
    if definition is not None:
        _check_rule(src, fields, function, derivative, definition)
    _register(function, derivative, definition)
    registry[name] = function
    return function


def _function_expr(src: _Source, fields: _Mapping, function: Function, key: str,
                   where: dict[str, str]) -> Expr:
    expr = _parse_field(src, fields, key, where, blame_where=False)
    node = fields.values[key]
    for sub in walk(expr):
        if isinstance(sub, Symbol) and sub.name != "x":
            raise src.error(node, function.name, key,
                            f"uses `{sub.name}`; a function's expressions use only its "
                            f"argument `x`")
        if function.elementwise and isinstance(sub, Const):
            raise src.error(node, function.name, key,
                            f"`{sub.name}` has no place in a scalar expression of `x`")
        if (function.elementwise and isinstance(sub, Apply) and sub.op == "power"
                and any(isinstance(n, Symbol) for n in walk(sub.args[1]))):
            raise src.error(node, function.name, key, "an exponent cannot depend on `x`")
        if function.elementwise and isinstance(sub, Apply) and not _pointwise(sub.op):
            raise src.error(node, function.name, key,
                            f"`{sub.op}` does not act entry by entry; an elementwise "
                            f"function's expressions use + - * / ^ and elementwise "
                            f"functions of `x`")
    return expr


def _pointwise(op: str) -> bool:
    spec = REGISTRY.get(op)
    return op in POINTWISE or (spec is not None and "elementwise" in spec.flags
                               and spec.arity == 1)


def _check_function_shapes(src: _Source, fields: _Mapping, function: Function,
                           derivative: Expr, definition: Expr | None) -> None:
    if definition is not None and not definition.ty.is_scalar:
        raise src.error(fields.node_of("definition"), function.name, "definition",
                        f"the definition is {definition.ty.describe()}; a table's "
                        f"function has a scalar value")
    expected = "a scalar (f'(x))" if function.elementwise else \
        f"shaped like x, a {function.argument} (the gradient)"
    try:
        combined = parse_quietly(f"x + ({function.derivative})", {"x": function.argument})
        fits = combined.ty.kind == function.argument
    except MatrixCalcError:
        fits = False
    if not fits:
        raise src.error(fields.node_of("derivative"), function.name, "derivative",
                        f"the derivative has the wrong shape: it is "
                        f"{derivative.ty.describe()}, expected {expected}")


def _check_rule(src: _Source, fields: _Mapping, function: Function, derivative: Expr,
                definition: Expr) -> None:
    """The rule against torch.autograd of the definition, at RULE_TRIALS points."""
    seed = zlib.crc32(function.name.encode()) % 2**30
    try:
        report = check(definition, "x", result=derivative, where={"x": function.argument},
                       trials=RULE_TRIALS, seed=seed)
    except MatrixCalcError as error:
        raise src.error(fields.node_of("derivative"), function.name, "derivative",
                        f"the rule could not be checked: {error.message}") from None
    if not report.ok:
        raise src.error(fields.node_of("derivative"), function.name, "derivative",
                        f"the derivative does not match the definition (autograd): "
                        f"{report.counterexample}")


def _register(function: Function, derivative: Expr, definition: Expr | None) -> None:
    from .index import lower
    name = function.name
    # lowering keeps the function whole as a factor; its rule is in diff.RULES
    lower.OPAQUE = lower.OPAQUE | {name}
    _USER_FUNCTIONS[name] = function
    evaluate = _evaluator(function, definition)
    source = f"{function.source}: {name}' = {function.derivative}"
    if function.elementwise:
        REGISTRY.pop(name, None)  # a table loaded again replaces its own function
        elementwise(name, lambda B, x: evaluate(B, x), domain=function.domain, source=source)
        diff.ELEMENTWISE_DERIVATIVES[name] = lambda m: _elementwise_derivative(derivative, m)
        diff.RULES[name] = diff.elementwise_rule
        return
    kind = function.argument

    def shape(ctx, node, types):
        if types[0].kind != kind:
            ctx.fail(f"{name} takes a {kind}, not {ctx.describe(types[0])}", node)
        return SCALAR

    register(OpSpec(name, 1, ATOM, text=call_text(name),
                    latex=call_latex(rf"\operatorname{{{name}}}"), shape=shape,
                    evaluate=lambda B, node, x: evaluate(B, x), call_names=(name,),
                    domains=(function.domain,), source=source), replace=True)
    diff.RULES[name] = _gradient_rule(derivative)


def _evaluator(function: Function, definition: Expr | None) -> Callable:
    if definition is None:
        def unsupported(B, x):
            raise UnsupportedError(f"`{function.name}` has no `definition` in its table, so "
                                   f"it cannot be evaluated",
                                   hint="add `definition:` to the function's entry")
        return unsupported
    if function.elementwise:
        untyped = _untyped(definition)  # scalar ops broadcast entry by entry
        return lambda B, x: _run(untyped, {"x": x}, B, lambda dim: 1)
    (x_symbol,) = [s for s in definition.symbols() if s.name == "x"] or [None]

    def evaluate(B, x):
        sizes: dict = {}
        if x_symbol is not None:
            for dim, size in zip((x_symbol.info.rows, x_symbol.info.cols), tuple(x.shape)):
                for atom in dim:
                    sizes[atom] = size
        size_of = lambda dim: _product(dim, sizes)  # noqa: E731
        return _run(definition, {"x": x}, B, size_of).reshape(1, 1)
    return evaluate


def _run(expr: Expr, env: dict, B, size_of) -> Any:
    from .numeric import run
    return run(expr, env, B, size_of)


def _product(dim, sizes: dict) -> int:
    total = 1
    for atom in dim:
        total *= atom if isinstance(atom, int) else sizes[atom]
    return total


def _untyped(e: Expr) -> Expr:
    if isinstance(e, Apply):
        return replace(e, args=tuple(_untyped(a) for a in e.args), ty=None)
    return replace(e, ty=None)


# -- substitution: x := an argument ----------------------------------------------------

def substitute(e: Expr, name: str, value: Expr) -> Expr:
    """e with the symbol `name` replaced by `value`, rebuilt bottom-up (shapes dropped:
    re-type with `matrixcalc.calculus.retype`)."""
    if isinstance(e, Symbol):
        return value if e.name == name else e
    if isinstance(e, Apply):
        return replace(e, args=tuple(substitute(a, name, value) for a in e.args), ty=None)
    return e


def lift(e: Expr, value: Expr) -> Expr:
    """A scalar expression of x as the elementwise expression of `value` (x := value):
    products of arrays become Hadamard products, quotients elementwise, powers `.^`."""
    if isinstance(e, Symbol):
        return value
    if not isinstance(e, Apply):
        return e
    args = [lift(a, value) for a in e.args]
    arrays = [not a.ty.is_scalar for a in args]
    if e.op == "mul" and all(arrays):
        return build.apply("hadamard", *args)
    if e.op == "mul":
        return build.product(*args)
    if e.op == "div" and arrays[1]:
        inverse = build.apply("epow", args[1], build.num(-1))
        if isinstance(args[0], Number) and args[0].value == 1:
            return inverse
        return build.apply("hadamard" if arrays[0] else "mul", args[0], inverse)
    if e.op == "power" and arrays[0]:
        return build.apply("epow", *args)
    return build.apply(e.op, *args, attrs=e.attrs)


def _elementwise_derivative(derivative: Expr, m: Expr):
    """f'(M) as (coefficient, factors multiplied elementwise), like the built-ins."""
    coeff: Any = sympy.Integer(1)
    factors = []
    for part in build.factors_of(derivative):
        sign, part = build.strip_sign(part) if part.ty.is_scalar else (1, part)
        coeff *= sign
        if isinstance(part, Number):
            coeff *= sympy.Rational(part.value.numerator, part.value.denominator)
        else:
            factors.append(lift(part, m))
    if not factors:
        return None if coeff == 0 else (coeff, [])
    return coeff, factors


def _gradient_rule(gradient: Expr):
    """d f(z) = g(z) : dz, with g the table's gradient expression and z the argument."""
    def rule(d, e, idx):
        from .calculus import retype
        from .index.ir import multiply
        from .index.lower import factor
        (z,) = e.args
        known = dict(z.shapes)
        g = retype(substitute(gradient, "x", z), known, z.ty)
        inner = (d.fresh() if z.ty.rows else None, d.fresh() if z.ty.cols else None)
        return multiply(diff.single(factor(g, inner)), d.expr(z, inner))
    return rule
