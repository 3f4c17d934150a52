# SPEC section 8: no user text reaches an evaluator of Python, and generated code names
# its own helpers and temporaries so that no user symbol can shadow or be shadowed.

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sympy

import matrixcalc as mc
from matrixcalc.language.expr import Apply, Symbol

PACKAGE = Path(mc.__file__).parent
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "_data" not in p.parts)
# the one place that runs code: generated source, built from a tree (outputs/codegen/source.py)
EXEC_ALLOWED = {("outputs/codegen/source.py", "compile_source")}


def _calls(path: Path):
    """(function name, call node, enclosing function) for every call in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scopes: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scopes.extend((child, node.name) for child in ast.walk(node))
    owner = {id(child): name for child, name in scopes}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else \
                func.attr if isinstance(func, ast.Attribute) else None
            yield name, node, owner.get(id(node), "<module>")


def test_the_scan_sees_every_module():
    # the scan below reads every module of the package (a wrong path would pass vacuously)
    names = {p.relative_to(PACKAGE).as_posix() for p in SOURCES}
    assert {"outputs/codegen/source.py", "index/scalars.py", "outputs/sympy_interop.py",
            "table/yaml_nodes.py", "cli/commands/derivatives.py"} <= names and len(names) > 50


def test_no_module_evaluates_text():
    # no eval; exec only where generated code is compiled; sympify only strict (which
    # refuses strings); no sympy.S(...), parse_expr, pickle or unsafe YAML loader
    found = []
    for path in SOURCES:
        where = path.relative_to(PACKAGE).as_posix()
        for name, call, scope in _calls(path):
            strict = any(k.arg == "strict" and isinstance(k.value, ast.Constant)
                         and k.value.value is True for k in call.keywords)
            module = getattr(call.func, "value", None)
            module = getattr(module, "id", "")
            builtin = isinstance(call.func, ast.Name)
            bad = (name in ("eval", "parse_expr", "literal_eval", "__import__",
                            "unsafe_load", "full_load")
                   or (name == "loads" and module in ("pickle", "marshal", "dill"))
                   or (name in ("exec", "compile") and builtin
                       and (where, scope) not in EXEC_ALLOWED)
                   or (name == "sympify" and not strict)
                   or (name == "S" and isinstance(call.func, ast.Attribute))
                   or (name == "load" and module in ("yaml", "pickle", "marshal")))
            if bad:
                found.append(f"{where}:{call.lineno} {name} in {scope}")
    assert found == []


def test_exec_stays_in_one_place():
    execs = [(p.relative_to(PACKAGE).as_posix(), scope) for p in SOURCES
             for name, _, scope in _calls(p) if name == "exec"]
    assert execs == [("outputs/codegen/source.py", "compile_source")]


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo pwned') or x",
    "x",
    "Matrix([[1]])",
])
def test_from_sympy_refuses_text(text, capfd):
    # text is never sympified: from_sympy takes SymPy objects, for text there is mc.parse
    with pytest.raises(mc.UsageError, match="SymPy expression, not str"):
        mc.from_sympy(text)
    assert "pwned" not in capfd.readouterr().out


def test_from_sympy_still_takes_sympy():
    n = sympy.Symbol("n")
    x, a = sympy.MatrixSymbol("x", n, 1), sympy.MatrixSymbol("A", n, n)
    assert str(mc.from_sympy(x.T * a * x)) == "x^T A x"


# -- generated code and names ---------------------------------------------------------------

# names the generator or its backends use: modules, builtins, temporaries, helpers,
# parameters and results of the generated function
NAMES = ["diag", "np", "torch", "jnp", "jax", "scipy", "sum", "t1", "t2", "dim_n", "sizes",
         "unused", "f", "float", "int", "result", "value", "grad_x", "arg", "arg_", "abs",
         "math", "len", "exp", "outer", "eye"]
EXPRESSION = "2 diag(v) A v + sigmoid(A v) * (v^T A v) + softmax(v) + exp(v) - 3 ones"


def _with_name(name: str):
    """EXPRESSION with its vector v named `name` (a parse of the text, or for a name the
    language cannot write, the symbol renamed in the tree)."""
    e = mc.parse(EXPRESSION)
    if name.isidentifier() and name[0] != "_":
        try:
            renamed = mc.parse(EXPRESSION.replace("v", name).replace("di" + name + "g", "diag"))
            if {s.name for s in renamed.symbols()} == {name, "A"}:
                return renamed
        except mc.MatrixCalcError:
            pass
    return _renamed(e, "v", name)


def _renamed(e, old: str, new: str):
    if isinstance(e, Symbol) and e.name == old:
        return replace(e, name=new, info=replace(e.info, name=new))
    if isinstance(e, Apply):
        return replace(e, args=tuple(_renamed(a, old, new) for a in e.args))
    return e


def _values(name: str):
    rng = np.random.default_rng(0)
    return {name: rng.normal(size=3), "A": rng.normal(size=(3, 3))}


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("name", NAMES + ["_mc_sigmoid", "_mc_softmax"])
def test_generated_code_with_colliding_names(name, backend):
    # a symbol named like the generator's own names computes the right value
    if backend == "jax":
        pytest.importorskip("jax").config.update("jax_enable_x64", True)  # as numpy
    e = _with_name(name)
    assert {s.name for s in e.symbols()} == {name, "A"}
    values = _values(name)
    expected = e.evaluate(values)
    f = mc.lambdify(e, backend=backend)
    if backend == "torch":
        import torch
        got = f(**{k: torch.tensor(v) for k, v in values.items()}).numpy()
    else:
        got = np.asarray(f(**values))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert np.asarray(f(*values.values())).shape == (3,)  # positionally, in input order


def test_the_diagonal_of_a_scaled_literal_is_code():
    # 2 diag([α; β]) A once called an undefined `diag`
    e = mc.parse("2 diag([α; β]) A")
    values = {"α": 1.5, "β": -2.0, "A": np.arange(4.0).reshape(2, 2)}
    pytest.importorskip("jax").config.update("jax_enable_x64", True)
    for backend in ("numpy", "torch", "jax"):
        f = mc.lambdify(e, backend=backend)
        np.testing.assert_allclose(np.asarray(f(**values)), e.evaluate(values))


def test_long_sums_and_products_compile():
    # a 2,000-term sum and a 120-factor product: Python's compiler recursed per operator
    terms = " + ".join(f"a{k}^T x" for k in range(2000))
    e = mc.parse(terms)
    values = {f"a{k}": np.full(2, 1.0 + k % 3) for k in range(2000)} | {"x": np.ones(2)}
    assert mc.lambdify(e)(**values) == pytest.approx(e.evaluate(values))
    chain = mc.parse(" ".join(["A"] * 120) + " x")
    values = {"A": np.array([[1.0, 0.01], [0.0, 1.0]]), "x": np.ones(2)}
    np.testing.assert_allclose(mc.lambdify(chain)(**values), chain.evaluate(values))
