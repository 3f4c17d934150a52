"""One generated function's source: a Generator's lines with the prologue (inputs as
arrays, dimensions read, shapes checked), the return in the outputs' structure and the
module header; and its compilation (the one place that runs code, never user text)."""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import UsageError
from ...language.expr import Expr
from ...ops.spec import BACKENDS
from ...optional import require
from .checks import shape_checks
from .generator import F64, Generator

HEADERS = {"numpy": ["import numpy as np"], "torch": ["import torch"],
           "jax": ["import jax", "import jax.numpy as jnp"]}


@dataclass(frozen=True)
class Output:
    expr: Expr
    name: str  # the preferred variable name


def generate(outputs: Sequence[Output], structure: Any, backend: str,
             doc: str) -> tuple[str, list[str], dict[str, str]]:
    """(source, input names in order, {input name: parameter name}).

    `structure` nests output indices: 0, (0, 1) or (0, (1, 2)); it shapes `return`.
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend `{backend}`: use "
                         + ", ".join(f'"{b}"' for b in BACKENDS))
    g = Generator(backend, [o.expr for o in outputs])
    results = [g.emit(o.expr, name=g.fresh(o.name)) for o in outputs]

    def returned(item) -> str:
        if isinstance(item, tuple):
            inner = ", ".join(returned(x) for x in item)
            return f"({inner},)" if len(item) == 1 else f"({inner})"
        return g.returned(results[item])

    ret = returned(structure)
    if ret.startswith("(") and isinstance(structure, tuple) and len(structure) > 1:
        ret = ret[1:-1]
    prologue = []
    for name, symbol in g.symbols.items():
        param = g.params[name]
        kind = symbol.info.kind if symbol.info else "matrix"
        if backend != "torch" and kind != "scalar":
            prologue.append(f"{param} = {g.xp}.asarray({param})")
        elif backend == "torch":
            extra = f", {F64}" if kind == "scalar" else ""
            prologue.append(f"{param} = torch.as_tensor({param}{extra})")
    checks = shape_checks(g)  # names the dimensions they use first
    for atom, source in g.dims_used.items():
        prologue.append(f"dim_{g._dim_ident(atom)} = {source}")
    prologue += checks
    params = ", ".join([*g.params.values(), *(["sizes=None"] if g.needs_sizes else []),
                        "**unused"])
    body = [f"    {line}" for line in [repr(doc), *prologue, *g.lines, f"return {ret}"]]
    head = HEADERS[backend] + sorted(g.imports) + [""]
    helpers = [g.helpers[h] for h in sorted(g.helpers)]
    source = "\n".join(head + ["", *[h + "\n" for h in helpers], f"def f({params}):",
                               *body]) + "\n"
    return source, list(g.params), {k: v for k, v in g.params.items() if k != v}


_COUNTER = itertools.count()


def compile_source(source: str, renamed: dict[str, str], backend: str = "numpy") -> Callable:
    """Compile generated source (never user text); keep it for tracebacks."""
    if backend != "numpy":
        require(backend, f"{'JAX' if backend == 'jax' else backend} code")
    filename = f"<matrixcalc-generated-{next(_COUNTER)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - source built from a tree
    function = namespace["f"]
    if not renamed:
        return function
    raw = function

    def function(*args, **kwargs):
        return raw(*args, **{renamed.get(k, k): v for k, v in kwargs.items()})
    return function
