"""Shared subexpressions (`r.shared()`, `matrixcalc derive --shared`): repeated parts of
a result named once, so a deep network's gradient grows linearly with its depth."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import matrixcalc as mc
from matrixcalc.cli import main
from strategies import SAFE_OPS, expressions, network


def test_each_hidden_activation_is_named_once():
    # the gradient of a 4-layer network names tanh(W1 x), tanh(W2 t1), tanh(W3 t2)
    r = mc.derive(network(4), "W1")
    form = r.shared()
    assert str(form) == (
        "2 diag(1 - t1.^2) W2^T diag(1 - t2.^2) W3^T diag(1 - t3.^2) W4^T (W4 t3 - y) x^T\n"
        "where t1 = tanh(W1 x)\n"
        "      t2 = tanh(W2 t1)\n"
        "      t3 = tanh(W3 t2)")
    assert form.expand() == r
    assert mc.check(network(4), "W1", result=r, trials=2).ok


def test_shared_size_grows_linearly_with_depth():
    # each layer adds the same number of characters to the shared form (not so the tree)
    sizes = [len(str(mc.derive(network(d), "W1").shared())) for d in range(4, 9)]
    growth = {b - a for a, b in zip(sizes, sizes[1:])}
    assert len(growth) == 1, sizes
    tree = [len(str(mc.derive(network(d), "W1"))) for d in range(4, 9)]
    assert tree[-1] - tree[-2] > tree[1] - tree[0]  # the tree's growth grows


def test_a_result_built_shared_is_named_from_its_nodes():
    """A result whose parts are shared prints far larger than it was built (4,000 times
    here, as the Hessian of a deep composition does): its repeated parts are counted on
    the nodes built, each node once, and named level by level."""
    from matrixcalc.language import build
    e = mc.parse("x", where="x: vector(n)")
    with mc.limits(nodes=10 ** 6):
        for _ in range(12):
            t = build.apply("tanh", e)
            e = build.apply("hadamard", t, t)
    form = e.shared()
    assert e.size() == 16381 and str(form).splitlines() == [
        "t11 ⊙ t11", "where t1 = tanh(tanh(x) ⊙ tanh(x))",
        *(f"      t{i} = tanh(t{i - 1} ⊙ t{i - 1})" for i in range(2, 12))]
    assert form.expand() == e


def test_nothing_is_named_when_naming_does_not_shorten():
    form = mc.derive("x^T A x", "x").shared()
    assert form.bindings == () and str(form) == "(A + A^T) x"
    short = mc.derive(network(2), "W1").shared()  # tanh(W1 x) twice: no shorter named
    assert short.bindings == ()


def test_names_avoid_the_symbols_in_use():
    r = mc.parse("tanh(t1 x) + tanh(t1 x) ⊙ exp(tanh(t1 x)) + sin(tanh(t1 x))",
                 where="t1: matrix")
    form = r.shared(min_chars=4)
    assert [name for name, _ in form.bindings] == ["u1"]
    assert form.expand() == r


def test_latex_lists_the_definitions():
    latex = mc.derive(network(4), "W1").shared().latex()
    assert r"\quad \text{where } t_{1} = \tanh\left(W_{1} x\right)" in latex


def test_cli_prints_the_shared_form(capsys):
    assert main(["derive", network(4), "--wrt", "W1", "--shared"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("where t1 = tanh(W1 x)")


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_expanding_the_shared_form_gives_the_tree_back(data):
    # for random expressions: naming and expanding is the identity, and never lengthens
    e = mc.parse(data.draw(expressions(ops=SAFE_OPS, max_depth=5)))
    form = e.shared(min_chars=data.draw(st.integers(1, 12)))
    assert form.expand() == e
    assert len(str(form)) <= len(str(e))
    names = [name for name, _ in form.bindings]
    assert len(set(names)) == len(names)
