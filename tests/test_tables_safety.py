# Tables that are safe to load (SPEC section 6): names, redefinitions, kinds, threads.
"""A table's functions can never change what other callers' expressions mean: no
built-in operator's name nor a word of the language, no redefinition of another table's
function, a derivative of the function's kind; a rule without a `definition` is said to
be unchecked when loaded and in the verdicts that rest on it; loading is safe under
threads and a refused table leaves nothing behind; generated code uses a function's
definition."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import matrixcalc as mc
from matrixcalc.errors import TableWarning
from matrixcalc.ops import FUNCTIONS, REGISTRY


def table_text(name: str, derivative: str = "3 x^2", definition: str | None = "x^3",
               elementwise: bool = True, argument: str | None = None,
               identities: str = "") -> str:
    lines = ["table: t", "functions:", f"  - name: {name}",
             f"    elementwise: {'true' if elementwise else 'false'}",
             f"    derivative: {derivative}"]
    if argument:
        lines.append(f"    argument: {argument}")
    if definition is not None:
        lines.append(f"    definition: {definition}")
    return "\n".join(lines) + "\n" + identities


def load(tmp_path, text: str, file: str = "t.yaml"):
    path = tmp_path / file
    path.write_text(text, encoding="utf-8")
    return mc.load_table(str(path))


@pytest.mark.parametrize("name", ["exp", "tr", "softmax", "I", "ones", "T", "d", "pi"])
def test_a_function_may_not_take_a_name_of_the_language(tmp_path, name):
    # a built-in operator or a word of the language: refused, naming the field
    with pytest.raises(mc.TableError, match="field `name`"):
        load(tmp_path, table_text(name))
    assert REGISTRY.get(name) is None or REGISTRY[name].source != "t"


def test_another_tables_function_cannot_be_redefined(tmp_path):
    # cubeA is x^3 in one table; a second table that makes it x^4 is refused
    load(tmp_path, table_text("cubeA"), "one.yaml")
    with pytest.raises(mc.TableError, match="already defined differently by .*one.yaml"):
        load(tmp_path, table_text("cubeA", "4 x^3", "x^4"), "two.yaml")
    assert str(mc.derive("sum(cubeA(x))", "x")) == "3 x.^2"
    load(tmp_path, table_text("cubeA"), "three.yaml")  # the same function again: fine


@pytest.mark.parametrize("derivative, argument", [("42", "vector"), ("x^T x", "vector"),
                                                  ("x x^T", "vector"), ("x^T", "vector"),
                                                  ("tr(x)", "matrix")])
def test_a_gradient_must_be_shaped_like_its_argument(tmp_path, derivative, argument):
    # a vector function's derivative is its gradient: a vector, not a number broadcast
    with pytest.raises(mc.TableError, match="field `derivative`"):
        load(tmp_path, table_text("gfun", derivative, None, elementwise=False,
                                  argument=argument))
    assert "gfun" not in FUNCTIONS


def test_an_elementwise_derivative_is_a_scalar_expression(tmp_path):
    # f'(x) of an elementwise function: a scalar; `ones` or a vector is refused
    with pytest.raises(mc.TableError, match="field `derivative`"):
        load(tmp_path, table_text("efun", "x ones"))
    assert "efun" not in FUNCTIONS


def test_an_unchecked_rule_is_said_on_load_and_in_verdicts(tmp_path):
    # no definition: a TableWarning on load, and every verdict resting on it says so
    identities = ("identities:\n  - id: uses-it\n    derivative: sum(nodef(x))\n"
                  "    wrt: x\n    equals: 3 x.^2\n")
    with pytest.warns(TableWarning, match="`nodef` has no `definition`"):
        table = load(tmp_path, table_text("nodef", definition=None, identities=identities))
    assert table.unchecked == ["nodef"]
    (result,) = table.results(trials=2)
    assert "unchecked" in result.note and "`nodef`" in result.note


def test_a_refused_table_leaves_nothing_behind(tmp_path):
    # the first function is fine, the second's rule is wrong: neither is registered after
    text = table_text("okfun") + ("  - name: badfun\n    elementwise: true\n"
                                  "    derivative: 2 x\n    definition: x^3\n")
    before = (dict(REGISTRY), dict(FUNCTIONS))
    with pytest.raises(mc.TableError, match="badfun"):
        load(tmp_path, text)
    assert (dict(REGISTRY), dict(FUNCTIONS)) == before


def test_generated_code_uses_a_functions_definition(tmp_path):
    # lambdify of a user function: the code computes its definition, in every backend
    load(tmp_path, table_text("quart", "4 x^3", "x^4"))
    x = np.array([0.5, -1.0, 2.0])
    want = float(np.sum(x ** 4))
    for backend in ("numpy", "torch", "jax"):
        f = mc.lambdify("sum(quart(x))", backend=backend)
        assert np.isclose(float(f(x=x)), want), f.source
    gradient = mc.lambdify(mc.derive("sum(quart(x))", "x"))
    assert np.allclose(gradient(x=x), 4 * x ** 3)


def test_loading_and_deriving_in_threads(tmp_path):
    # 8 threads load tables (one refused) and derive at once: every answer is the
    # sequential one, and the refused table left nothing
    for k in range(4):
        (tmp_path / f"p{k}.yaml").write_text(table_text(f"pw{k}", f"{k + 2} x^{k + 1}",
                                                        f"x^{k + 2}"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(table_text("badpw", "x", "x^3"), encoding="utf-8")
    expected = {k: f"{k + 2} x.^{k + 1}" if k else "2 x" for k in range(4)}
    errors: list = []

    def work(k: int) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if k == 4:
                    with pytest.raises(mc.TableError):
                        mc.load_table(str(tmp_path / "bad.yaml"))
                    return
                mc.load_table(str(tmp_path / f"p{k % 4}.yaml"))
                for _ in range(5):
                    got = str(mc.derive(f"sum(pw{k % 4}(x))", "x"))
                    assert got == expected[k % 4], (k, got)
                    assert str(mc.derive("x^T A x", "x")) == "(A + A^T) x"
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert "badpw" not in FUNCTIONS
