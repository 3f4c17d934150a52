"""User functions in tables (SPEC section 6, `functions:`): loading a table teaches
`parse` and `derive` a new function, checked against its definition on load."""

from __future__ import annotations

import numpy as np
import pytest

import matrixcalc as mc
from matrixcalc import derive
from matrixcalc.ops import FUNCTIONS

SWISH = """\
table: user-functions
source: test
functions:
  - name: swish
    elementwise: true
    definition: x sigmoid(x)
    derivative: sigmoid(x) + x sigmoid(x) (1 - sigmoid(x))
  - name: halfsq
    elementwise: false
    argument: vector
    definition: 1/2 x^T x
    derivative: x
  - name: cube_nodef
    elementwise: true
    derivative: 3 x^2
identities:
  - id: swish-layer
    derivative: sum(swish(W x))
    wrt: x
    equals: W^T (sigmoid(W x) + (W x) ⊙ sigmoid(W x) ⊙ (1 - sigmoid(W x)))
  - id: halfsq-residual
    derivative: halfsq(A x - b)
    wrt: x
    equals: A^T (A x - b)
"""


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("tables") / "user.yaml"
    path.write_text(SWISH, encoding="utf-8")
    return mc.load_table(str(path))


def test_functions_are_registered(table):
    # after load_table, the parser knows the functions
    assert {"swish", "halfsq", "cube_nodef"} <= set(FUNCTIONS)
    assert [f.name for f in table.functions] == ["swish", "halfsq", "cube_nodef"]


def test_derive_uses_an_elementwise_user_function(table):
    # d/dx sum(swish(W x)) = W^T swish'(W x), checked against autograd
    result = derive("sum(swish(W x))", "x")
    assert "sigmoid(W x)" in str(result)
    assert mc.check("sum(swish(W x))", "x", trials=3).ok


def test_derive_uses_a_vector_user_function(table):
    # d/dx halfsq(A x - b) = A^T (A x - b)
    assert str(derive("halfsq(A x - b)", "x")) == "A^T (A x - b)"
    assert mc.check("halfsq(A x - b)", "x", trials=3).ok


def test_user_functions_derive_by_differentials(table):
    # a table's function has a differential rule too: d f(z) = g(z)^T dz, and d f(M) =
    # f'(M) ⊙ dM from its derivative
    from matrixcalc.calculus.by_differentials import derive_by_differentials
    assert str(derive_by_differentials("halfsq(A x - b)", "x").result) == "A^T (A x - b)"
    result = derive_by_differentials("sum(swish(W x))", "x").result
    assert str(result) == str(derive("sum(swish(W x))", "x"))
    assert mc.check("sum(swish(W x))", "x", result=result, trials=3).ok


def test_user_function_evaluates_from_its_definition(table):
    # swish(x) = x sigmoid(x), evaluated entry by entry by the tree evaluator
    x = np.array([-1.0, 0.5, 2.0])
    value = mc.parse("swish(x)").evaluate({"x": x})
    assert np.allclose(value, x / (1 + np.exp(-x)))
    assert np.isclose(mc.parse("halfsq(x)").evaluate({"x": x}), 0.5 * x @ x)


def test_function_without_definition_cannot_be_evaluated(table):
    # derive works; evaluation says what is missing
    assert str(derive("sum(cube_nodef(x))", "x")) in ("3 x.^2", "3 (x.^2)")
    with pytest.raises(mc.UnsupportedError, match="definition"):
        mc.parse("cube_nodef(x)").evaluate({"x": np.ones(2)})


def test_table_with_functions_verifies(table):
    # its identities hold
    assert all(v.holds for v in table.verify())


def test_wrong_rule_is_refused(tmp_path):
    # a derivative that does not match the definition: refused on load, not registered
    path = tmp_path / "wrong.yaml"
    path.write_text("table: wrong\nfunctions:\n  - name: swish_wrong\n"
                    "    elementwise: true\n    definition: x sigmoid(x)\n"
                    "    derivative: sigmoid(x)\n", encoding="utf-8")
    with pytest.raises(mc.TableError, match="does not match") as caught:
        mc.load_table(str(path))
    assert caught.value.field == "derivative" and caught.value.entry_id == "swish_wrong"
    assert "swish_wrong" not in FUNCTIONS
    with pytest.raises(mc.ParseError):
        mc.parse("swish_wrong(x)")


def test_wrong_gradient_is_refused(tmp_path):
    # the same for a vector -> scalar function
    path = tmp_path / "wrong.yaml"
    path.write_text("table: wrong\nfunctions:\n  - name: sq_wrong\n"
                    "    elementwise: false\n    definition: x^T x\n"
                    "    derivative: x\n", encoding="utf-8")
    with pytest.raises(mc.TableError, match="does not match"):
        mc.load_table(str(path))
    assert "sq_wrong" not in FUNCTIONS


def test_loading_twice_is_fine(tmp_path):
    # a table's own functions may be registered again
    path = tmp_path / "twice.yaml"
    path.write_text("table: twice\nfunctions:\n  - name: twice_f\n    elementwise: true\n"
                    "    definition: 2 x\n    derivative: 2\n", encoding="utf-8")
    mc.load_table(str(path))
    mc.load_table(str(path))
    assert mc.check("sum(twice_f(x))", "x", trials=2).ok
