"""Large expressions (issue 19): the fast paths that keep a sum of thousands of terms
linear give exactly what the general paths give. Speed itself is measured in bench/
(scaling_bench.py, parse_bench.py), never here."""

from __future__ import annotations

from fractions import Fraction
from functools import reduce

import sympy
from hypothesis import given
from hypothesis import strategies as st

import matrixcalc as mc
from matrixcalc.index.scalars import from_sympy
from matrixcalc.rewrite.sums import rational_gcd

rationals = st.fractions(min_value=-60, max_value=60, max_denominator=24)


@given(st.lists(rationals, min_size=2, max_size=8))
def test_rational_gcd_is_sympys_gcd_folded(values: list[Fraction]) -> None:
    coeffs = [sympy.Rational(v.numerator, v.denominator) for v in values]
    expected = reduce(sympy.gcd, coeffs)
    got = rational_gcd(coeffs)
    assert got == expected and type(got) is type(expected)


x, y, n = sympy.symbols("x y n", real=True)
monomials = st.sampled_from([sympy.Integer(1), x, y, x * y, x**2, sympy.sin(x),
                             sympy.exp(y), 1 / n, x / n, sympy.sqrt(y)])


@given(st.lists(st.tuples(rationals, monomials), min_size=2, max_size=6))
def test_sum_terms_order_is_sympys_term_order(parts) -> None:
    """from_sympy writes a sum's terms in default_sort_key order of its own arguments, as
    it did after SymPy's `as_ordered_terms` (slow), which gives the same order."""
    value = sympy.Add(*(sympy.Rational(c.numerator, c.denominator) * m for c, m in parts))
    if not value.is_Add:
        return
    key = sympy.default_sort_key
    assert sorted(value.args, key=key) == sorted(value.as_ordered_terms(), key=key)
    written = from_sympy(value)
    assert written.op == "add" and len(written.args) == len(value.args)


def test_common_whole_coefficient_of_a_long_sum() -> None:
    terms = " + ".join(f"{2 * (i % 3 + 1)} a{i}^T x" for i in range(12))
    result = mc.derive(terms, "x")
    assert str(result) == ("2 (2 a1 + 2 a10 + 2 a4 + 2 a7 + 3 a11 + 3 a2 + 3 a5 + 3 a8"
                           " + a0 + a3 + a6 + a9)")
    assert mc.check(terms, "x", result=result).ok


def test_fractional_coefficients_of_a_long_sum_stay_apart() -> None:
    terms = " + ".join(f"{i % 3 + 1}/{2 * (i % 2 + 1)} a{i}^T x" for i in range(7))
    result = mc.derive(terms, "x")
    assert str(result) == "1/2 a0 + 1/2 a1 + 1/2 a6 + 1/4 a3 + 3/2 a2 + 3/4 a5 + a4"
    assert mc.check(terms, "x", result=result).ok


def test_many_terms_keep_their_own_dimensions() -> None:
    """Each term's inner dimension is its own, named in order of first appearance."""
    e = mc.parse(" + ".join(f"A{i} B{i} x" for i in range(6)) + " + C y")
    shapes = {k: (v.rows, v.cols) for k, v in e.shapes.items()}
    assert shapes["A0"] == (("n",), ("p",)) and shapes["B0"] == (("p",), ("m",))
    assert shapes["A5"] == (("n",), ("u",)) and shapes["B5"] == (("u",), ("m",))
    assert shapes["C"] == (("n",), ("v",)) and shapes["y"] == (("v",), ())
    assert shapes["x"] == (("m",), ())


def test_bracket_column_entries() -> None:
    text = "[" + "; ".join(f"{i + 1} x^2 + x" for i in range(30)) + "]"
    result = mc.derive(text, "x", where="x: scalar")
    assert str(result) == "[" + "; ".join(f"1 + {2 * (i + 1)} x" for i in range(30)) + "]"
    assert mc.check(text, "x", result=result, where="x: scalar").ok


def test_collector_setting_restored_after_calls() -> None:
    """Public calls run the garbage collector less often (guard.fewer_collections) and
    give the process its own setting back, after an error and after calls in threads."""
    import gc
    import threading

    from matrixcalc import guard
    before = gc.get_threshold()
    seen = []

    def work() -> None:
        seen.append(guard._collector["calls"] > 0 and gc.get_threshold()[0])
        mc.derive("x^T A x", "x")

    original = guard.public(lambda: work())
    original()
    assert seen == [guard.YOUNG_OBJECTS] and gc.get_threshold() == before
    try:
        mc.parse("x +")
    except mc.ParseError:
        pass
    threads = [threading.Thread(target=original) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.get_threshold() == before and guard._collector["calls"] == 0
