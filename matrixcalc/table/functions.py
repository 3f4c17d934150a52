"""User functions from identity tables' `functions:` (SPEC section 6).

A table can teach the engine a function: elementwise ones through the operator table's
`elementwise` factory (the table's `derivative` is f', its `definition` gives the
evaluation and the generated code), others (a vector or matrix to a scalar) as an
operator record of their own with the table's gradient as the derivative rule. A rule is
checked against the `definition` with torch.autograd on load; without a definition it is
unchecked, and loading says so (`TableWarning`). A function may not take a built-in
operator's name or a word of the language, nor change a function another table defines.
Loading holds the operator table's lock, and a refused table's registrations are rolled
back, so a failed load leaves nothing behind.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import yaml

from ..errors import MatrixCalcError, TableWarning, UnsupportedError
from ..language.declarations import NAME_PATTERN
from ..language.expr import Apply, Const, Expr, Symbol, substituted, untyped, walk
from ..language.parse import parse_quietly
from ..language.shapes import SCALAR, dim_size
from ..numbers.check import check
from ..numbers.numeric import run
from ..ops import FUNCTIONS, REGISTRY, OpSpec, register
from ..ops.elementwise import elementwise
from ..ops.spec import (
    ATOM,
    ENTRY_DOMAINS,
    Differential,
    call_latex,
    call_text,
    registry_lock,
    restore,
    snapshot,
)
from .yaml_nodes import _Mapping, _parse_field, _Source

FUNCTION_KEYS = ("name", "elementwise", "argument", "definition", "derivative", "domain",
                 "source", "note")
ARGUMENT_KINDS = ("vector", "matrix")
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
    path: str = ""

    @property
    def meaning(self) -> tuple:
        """What decides the function's value and derivative (not where it was written)."""
        return (self.elementwise, self.argument, self.derivative, self.definition,
                self.domain)

    @property
    def checked(self) -> bool:
        """Whether its rule was checked against its definition on load."""
        return self.definition is not None


# -- user functions ------------------------------------------------------------------------

_USER_FUNCTIONS: dict[str, Function] = {}  # registered by tables, by name
RESERVED_NAMES = frozenset({"I", "ones", "T", "d", "pi", "π"})  # the language's own words


@contextmanager
def _registrations() -> Iterator[dict]:
    """Load under the operator table's lock; on failure, undo every registration (the
    operator records and the user functions) so that a refused table leaves nothing."""
    with registry_lock():
        saved, functions = snapshot(), dict(_USER_FUNCTIONS)
        record: dict = {}
        try:
            yield record
        except BaseException:
            restore(saved)
            _USER_FUNCTIONS.clear()
            _USER_FUNCTIONS.update(functions)
            raise


def _load_function(src: _Source, node: yaml.MappingNode, table_source: str,
                   registry: dict) -> Function:
    name_node = next((v for k, v in node.value if getattr(k, "value", None) == "name"), None)
    name = name_node.value if isinstance(name_node, yaml.ScalarNode) else None
    fields = _Mapping(src, node, name, FUNCTION_KEYS, "a function")
    name = fields.text("name", required=True)
    _check_name(src, fields, name, registry)
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
    if domain not in ENTRY_DOMAINS:
        raise src.error(fields.node_of("domain"), name, "domain",
                        f"`domain` is one of {', '.join(ENTRY_DOMAINS)}")
    function = Function(name, is_elementwise, argument,
                        fields.text("derivative", required=True, expression=True),
                        fields.text("definition", expression=True), domain,
                        fields.text("source") or table_source or f"table {src.path}",
                        fields.node.start_mark.line + 1, src.path)
    _check_redefinition(src, fields, function)
    where = {"x": argument}
    derivative = _function_expr(src, fields, function, "derivative", where)
    definition = (_function_expr(src, fields, function, "definition", where)
                  if function.definition else None)
    _check_function_shapes(src, fields, function, derivative, definition)
    _register(function, derivative)
    if definition is not None:
        _check_rule(src, fields, function, derivative, definition)
    else:
        warnings.warn(TableWarning(f"{src.path}: function `{name}` has no `definition`: its "
                                   "rule is unchecked, and it cannot be evaluated"),
                      stacklevel=4)
    registry[name] = function
    return function


def unchecked_functions(*exprs: Expr) -> tuple[str, ...]:
    """The user functions the expressions apply whose rule is unchecked."""
    names = {n.op for e in exprs for n in walk(e) if isinstance(n, Apply)}
    return tuple(sorted(n for n in names
                        if n in _USER_FUNCTIONS and not _USER_FUNCTIONS[n].checked))


def _check_name(src: _Source, fields: _Mapping, name: str, registry: dict) -> None:
    node = fields.node_of("name")
    if not NAME_PATTERN.match(name):
        raise src.error(node, name, "name",
                        "a function name is a letter followed by letters, digits or `_`")
    if name in RESERVED_NAMES:
        raise src.error(node, name, "name", f"`{name}` is a word of the language; choose "
                                            "another name")
    if (name in REGISTRY or name in FUNCTIONS) and name not in _USER_FUNCTIONS:
        raise src.error(node, name, "name",
                        f"`{name}` is a built-in operator; choose another name")
    if name in registry:
        raise src.error(node, name, "name", f"`{name}` is defined twice in this table")


def _check_redefinition(src: _Source, fields: _Mapping, function: Function) -> None:
    """Another table's function of the same name must be the same function: a table may
    be loaded again, but never change what other callers' expressions mean."""
    known = _USER_FUNCTIONS.get(function.name)
    if known is not None and known.meaning != function.meaning:
        raise src.error(fields.node_of("name"), function.name, "name",
                        f"`{function.name}` is already defined differently by {known.path}",
                        hint="choose another name, or load one of the two tables only")


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
    fits = derivative.ty.kind == ("scalar" if function.elementwise else function.argument)
    if not function.elementwise and fits:  # a gradient of x's very dimensions
        try:
            fits = parse_quietly(f"x + ({function.derivative})",
                                 {"x": function.argument}).ty.kind == function.argument
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


def _register(function: Function, derivative: Expr) -> None:
    """The function as an operator record: an elementwise one through the factory (its
    SymPy function made from the table's derivative, its evaluation and code from its
    definition), any other with the table's gradient as its derivative rule."""
    name = function.name
    _USER_FUNCTIONS[name] = function
    source = f"{function.source}: {name}' = {function.derivative}"
    if function.elementwise:
        elementwise(name, fprime=function.derivative, definition=function.definition or "",
                    evaluate=None if function.definition else _unevaluable(function),
                    code=None if function.definition else _no_code(function),
                    domain=function.domain, source=source, replace=True)
        return
    kind = function.argument

    def shape(ctx, node, types):
        if types[0].kind != kind:
            ctx.fail(f"{name} takes a {kind}, not {ctx.describe(types[0])}", node)
        return SCALAR

    register(OpSpec(name, 1, ATOM, text=call_text(name),
                    latex=call_latex(rf"\operatorname{{{name}}}"), shape=shape,
                    evaluate=_evaluator(function), call_names=(name,),
                    derivative=_gradient_rule(derivative), title=name,
                    differential=Differential(_gradient_differential(derivative)),
                    rule=f"d {name}(z) = ({function.derivative})(z)^T dz",
                    code=(lambda g, node, a: g.definition(node, a[0])) if function.definition
                    else _no_code(function), definition=function.definition or "",
                    domains=(function.domain,), source=source, example=f"{name}(x)",
                    example_where=f"x: {kind}"), replace=True)


def _unevaluable(function: Function) -> Callable:
    def evaluate(B, x):
        raise UnsupportedError(f"`{function.name}` has no `definition` in its table, so "
                               f"it cannot be evaluated",
                               hint="add `definition:` to the function's entry")
    return evaluate


def _no_code(function: Function) -> Callable:
    def code(g, node, a):
        raise UnsupportedError(f"`{function.name}` has no `definition` in its table, so no "
                               "code can be generated for it",
                               hint="add `definition:` to the function's entry")
    return code


def _evaluator(function: Function) -> Callable:
    """A non-elementwise function by its definition, x bound to the argument's value."""
    if function.definition is None:
        unevaluable = _unevaluable(function)
        return lambda B, node, x: unevaluable(B, x)
    definition = parse_quietly(function.definition, {"x": function.argument})
    (x_symbol,) = [s for s in definition.symbols() if s.name == "x"] or [None]

    def evaluate(B, node, x):
        sizes: dict = {}
        if x_symbol is not None:
            for dim, size in zip((x_symbol.info.rows, x_symbol.info.cols), tuple(x.shape)):
                for atom in dim:
                    sizes[atom] = size
        size_of = lambda dim: dim_size(dim, sizes)  # noqa: E731
        return run(definition, {"x": x}, B, size_of).reshape(1, 1)
    return evaluate


def _gradient_at(gradient: Expr, z: Expr) -> Expr:
    """The table's gradient expression g(x) at the argument z."""
    from ..calculus.derive import retype
    return retype(substituted(untyped(gradient), {"x": z}), dict(z.shapes), z.ty)


def _gradient_rule(gradient: Expr):
    """d f(z) = g(z) : dz, with g the table's gradient expression and z the argument."""
    def rule(d, e, idx):
        (z,) = e.args
        inner = d.inner(z)
        return d.times(d.term(d.factor(_gradient_at(gradient, z), inner)), d.expr(z, inner))
    return rule


def _gradient_differential(gradient: Expr):
    """The same rule by differentials: d f(z) = tr(g(z)^T dz) (g(z)^T dz for a vector)."""
    return lambda D, e, dargs: D.inner(_gradient_at(gradient, e.args[0]), dargs[0])
