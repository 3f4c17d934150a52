# The operator table walked record by record, JAX style: every piece of every record works.
"""Each resolved operator's record is complete and every piece of it works, from the
record's own example and nothing written per operator here: the example parses, prints
back to itself and to LaTeX; numpy and torch evaluate it alike; the generated numpy,
torch and JAX code computes the same values; its derivative by each symbol agrees with
torch.autograd (`mc.check`), and twice that derivative does not. An elementwise function
added by one record in this test goes through the same walk."""

from __future__ import annotations

import re
from dataclasses import replace

import jax
import numpy as np
import pytest
import torch
from test_codegen import draw_point, torch_inputs

import matrixcalc as mc
from matrixcalc.calculus.by_differentials import agrees, derive_by_differentials
from matrixcalc.language import build
from matrixcalc.numbers.backends import backend
from matrixcalc.numbers.reports import relative_error
from matrixcalc.language.expr import Apply, walk
from matrixcalc.index.scalars import derivative_parts, function
from matrixcalc.ops import REGISTRY
from matrixcalc.ops.elementwise import elementwise
from matrixcalc.numbers.numeric import run, to_user
from matrixcalc.ops.spec import BACKENDS, DOMAINS, register, unavailable, unregister
from matrixcalc.numbers.sampling import Problem

jax.config.update("jax_enable_x64", True)  # compare in float64, as numpy and torch do

RESOLVED = sorted(name for name, spec in REGISTRY.items() if not spec.syntax_only)
PIECES = ("text", "latex", "shape")


def example_of(op: str):
    spec = REGISTRY[op]
    return mc.parse(spec.example, spec.example_where)


@pytest.mark.parametrize("op", RESOLVED)
def test_record_is_complete(op):
    # printers, shape rule, evaluation, code for every backend, an index form or a rule
    # (with its name and statement), a domain the checker knows, a source, an example
    spec = REGISTRY[op]
    missing = [p for p in PIECES if not callable(getattr(spec, p))]
    if not (callable(spec.evaluate) or spec.definition):
        missing.append("evaluate or definition")
    missing += [f"code[{b}]" for b in BACKENDS if spec.template(b) is None]
    if spec.lower is None and spec.derivative is None:
        missing.append("lower or derivative")
    if spec.derivative is not None and not (spec.title and spec.rule):
        missing.append("title and rule of its derivative")
    # the rule of the derivation by differentials (mc.explain(method="differential")), with
    # its name and statement (its own, or the record's), or the stated reason there is none
    if spec.differential is None:
        missing.append("differential")
    elif spec.differential.apply is None:
        if not spec.differential.reason.strip():
            missing.append("the reason it has no differential rule")
    elif not ((spec.differential.title or spec.title) and (spec.differential.rule or spec.rule)):
        missing.append("title and rule of its differential")
    if not spec.example:
        missing.append("example")
    if not spec.source.strip():
        missing.append("source")
    assert not missing, f"`{op}` lacks {missing}"
    assert set(spec.domains) <= DOMAINS


@pytest.mark.parametrize("op", sorted(n for n in RESOLVED if "elementwise" in REGISTRY[n].flags
                                      and REGISTRY[n].call_names == (n,)))
def test_elementwise_record_has_a_sympy_function_and_a_derivative(op):
    # the SymPy function folds scalars, and f' is derived from it (not written again)
    f = function(op)
    assert f.__name__ in (op, "Abs", "atan") or f.__name__.lower() == op
    parts = derivative_parts(op)
    assert parts is None or parts[1] is not None


@pytest.mark.parametrize("op", RESOLVED)
def test_example_parses_prints_and_reads_back(op):
    # parse -> print -> parse is the same tree; the LaTeX is not empty
    spec, e = REGISTRY[op], example_of(op)
    assert op in {n.op for n in walk(e) if isinstance(n, Apply)}, spec.example
    assert mc.parse(str(e), spec.example_where) == e
    assert e.latex().strip()


def _torch_value(e, seed: int):
    """The tree evaluated on the torch backend at the draw `draw_point(e, seed)` uses."""
    problem = Problem()
    problem.add_root(0, e)
    _, draw = problem.draw(seed)
    size_of = lambda dim: problem.size(0, dim, draw.sizes)  # noqa: E731
    value = run(e, {k: torch.from_numpy(v) for k, v in draw.values.items()},
                backend("torch"), size_of)
    return to_user(value, e.ty, backend("torch"), size_of).numpy()


def _values_agree(e) -> int:
    """numpy evaluate = torch evaluate = the generated code of every backend, at sampled
    points inside every domain; the number of points checked."""
    functions = {b: mc.lambdify(e, backend=b) for b in BACKENDS}
    checked = 0
    for seed in range(3):
        point = draw_point(e, seed)
        if point is None:
            continue
        inputs, want = point
        assert relative_error(_torch_value(e, seed), want) <= 1e-10
        for b, f in functions.items():
            args = torch_inputs(inputs) if b == "torch" else inputs
            got = f(**args)
            got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
            assert np.shape(got) == np.shape(want), (b, f.source)
            assert relative_error(got, want) <= 1e-8, (b, f.source)
        checked += 1
    return checked


@pytest.mark.parametrize("op", RESOLVED)
def test_example_evaluates_and_generates_agreeing_code(op):
    # evaluate (numpy, torch) and the numpy / torch / JAX code give the same values
    e = example_of(op)
    assert _values_agree(e) >= 1


def _derivatives_agree(e, where) -> None:
    """By every symbol: the derivative passes the autograd check; twice it does not."""
    for symbol in e.symbols():
        result = mc.derive(e, symbol.name, where=where)
        report = mc.check(e, symbol.name, result=result, where=where, trials=3, seed=5)
        assert report.ok, f"{e} by {symbol.name}: {result}\n{report}"
        if not result.is_tensor and str(result) != "0":
            wrong = mc.check(e, symbol.name, result=_twice(result), where=where, trials=3,
                             seed=5)
            assert not wrong.ok, f"{e} by {symbol.name}: 2 × {result} passed"


def _twice(result):
    return build.apply("mul", build.num(2), result)


@pytest.mark.parametrize("op", RESOLVED)
def test_example_derivative_agrees_with_autograd(op):
    # d(example)/d(each symbol) = torch.autograd's, and a doubled derivative is refused
    spec = REGISTRY[op]
    _derivatives_agree(example_of(op), spec.example_where)


def _differentials_agree(e, where) -> None:
    """By every symbol: the derivation by differentials (the records' `differential`
    rules, at the matrix level) gives mc.derive's derivative (the same canonical form, or
    a difference that is 0) and passes the autograd check; of order 3 or 4 it gives the
    differential itself and says why."""
    for symbol in e.symbols():
        by_differentials = derive_by_differentials(e, symbol.name, where)
        result = mc.derive(e, symbol.name, where=where)
        if result.is_tensor:
            assert by_differentials.result is None and "order 3 or 4" in by_differentials.reason
            assert by_differentials.differential is not None
            continue
        assert by_differentials.result is not None, f"{e} by {symbol}: {by_differentials.reason}"
        assert agrees(by_differentials.result, result), f"{by_differentials.result} ≠ {result}"
        report = mc.check(e, symbol.name, result=by_differentials.result, where=where,
                          trials=3, seed=5)
        assert report.ok, f"{e} by {symbol.name}: {by_differentials.result}\n{report}"


@pytest.mark.parametrize("op", RESOLVED)
def test_example_derivative_by_differentials_agrees(op):
    # the example differentiated by each symbol through the records' differentials equals
    # the index engine's derivative and torch.autograd's
    spec = REGISTRY[op]
    if spec.differential.apply is None:  # a stated reason: the derivation says it
        with pytest.raises(mc.UnsupportedError, match=re.escape(spec.differential.reason)):
            derive_by_differentials(example_of(op), example_of(op).symbols()[0].name,
                                    spec.example_where)
        return
    _differentials_agree(example_of(op), spec.example_where)


# -- an operator added by one record -------------------------------------------------------

@pytest.fixture
def bump():
    """bump(x) = x exp(-x^2), added by one call and nothing else (removed afterwards)."""
    elementwise("bump", definition="x exp(-x^2)", source="a test's function")
    yield REGISTRY["bump"]
    unregister("bump")


def test_a_function_added_by_one_record_goes_through_every_stage(bump):
    # parse, print, LaTeX, evaluate, code in every backend, derivative (from SymPy, out
    # of its definition) checked against autograd
    e = mc.parse("sum(bump(A x))")
    assert mc.parse(str(e)) == e and "bump" in e.latex()
    assert _values_agree(e) >= 1
    _derivatives_agree(e, None)
    _differentials_agree(e, None)  # its differential's f' from the same SymPy derivation
    gradient = mc.derive("sum(bump(x))", "x")
    assert str(gradient) == "(1 - 2 x.^2) ⊙ exp(-x.^2)", str(gradient)


def test_a_record_may_state_why_it_has_no_differential(bump):
    # `differential=unavailable(reason)`: the record is complete, the derivation by
    # differentials stops with the reason, the index form's derivative is unaffected
    reason = "its differential has no closed matrix form (a test's record)"
    register(replace(bump, differential=unavailable(reason)), replace=True)
    test_record_is_complete("bump")
    test_example_derivative_by_differentials_agrees("bump")
    with pytest.raises(mc.UnsupportedError, match="no differential rule at the matrix level"):
        mc.explain("sum(bump(x))", "x", method="differential")
    assert str(mc.derive("sum(bump(x))", "x")) == "(1 - 2 x.^2) ⊙ exp(-x.^2)"
    register(replace(bump, differential=unavailable(" ")), replace=True)
    with pytest.raises(AssertionError, match="the reason it has no differential rule"):
        test_record_is_complete("bump")
