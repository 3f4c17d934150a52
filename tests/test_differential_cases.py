# The Matrix Cookbook's section 2, the lesson and the ML losses, derived by differentials.
"""Every derivative case of tests/derivative_cases.py and every derivative or Hessian
entry of the built-in identity tables (identities/*.yaml) gets a derivation by
differentials that gives mc.derive's (or mc.hessian's) canonical text, or, where the two
texts differ, a difference whose normal form is 0 and the autograd check; or a stated
reason: a derivative of order 3 or 4 (no matrix form: the differential is the answer),
or the Cookbook's structured derivative (section 2.8), which is computed from the
unstructured one. The counts are floors: a better canonical form may raise them."""

from __future__ import annotations

import pytest
from derivative_cases import COOKBOOK, FOUND_BY_FUZZING, INDEX_FORM, LESSON

import matrixcalc as mc
from matrixcalc.calculus.by_differentials import agrees, derive_by_differentials, second
from matrixcalc.table.tables import load_table

# group: (cases, at least this many to the letter, how many with no closed form)
EXPECTED = {
    "lesson": (18, 18, 0), "cookbook": (54, 54, 0), "index form": (18, 17, 0),
    "found by fuzzing": (10, 10, 0),
    "cookbook-2.1-determinants": (12, 12, 0), "cookbook-2.2-inverses": (6, 5, 1),
    "cookbook-2.4-scalar-forms": (27, 23, 3), "cookbook-2.5-traces": (31, 31, 0),
    "cookbook-2.6-2.7-norms": (6, 5, 0), "cookbook-2.8-structured": (1, 1, 0),
    "lesson-table": (30, 30, 0), "ml-gradients": (24, 24, 0),
}


def _cases(group: str) -> list[tuple[str, str, object, int]]:
    lists = {"lesson": LESSON, "cookbook": COOKBOOK, "index form": INDEX_FORM,
             "found by fuzzing": FOUND_BY_FUZZING}
    if group in lists:
        return [(c.expr, c.wrt, c.where, 1) for c in lists[group]]
    table = load_table("lesson" if group == "lesson-table" else group)
    return [(e.expr, e.wrt, e.where or None, 2 if e.kind == "hessian" else 1)
            for e in table.entries if e.kind in ("derivative", "hessian") and not e.structured]


@pytest.mark.parametrize("group", sorted(EXPECTED))
def test_every_case_has_a_derivation_by_differentials(group):
    # the same canonical text, or a difference that is 0 and autograd's; or no closed form
    size, same, open_forms = EXPECTED[group]
    cases = _cases(group)
    assert len(cases) == size
    counts = {"same": 0, "agrees": 0, "no closed form": 0}
    for expr, wrt, where, order in cases:
        if order == 2:
            derivation, engine = second(expr, wrt, where), mc.hessian(expr, wrt, where=where)
        else:
            derivation, engine = derive_by_differentials(expr, wrt, where), \
                mc.derive(expr, wrt, where=where)
        result = derivation.result
        if result is None:
            assert engine.is_tensor and "order 3 or 4" in derivation.reason, (expr, wrt)
            counts["no closed form"] += 1
        elif str(result) == str(engine):
            counts["same"] += 1
        else:
            assert agrees(result, engine), f"{expr} by {wrt}: {result} ≠ {engine}"
            assert mc.check(expr, wrt, result=result, where=where, order=order, seed=6).ok
            counts["agrees"] += 1
    assert counts["same"] >= same and counts["no closed form"] == open_forms, counts


def test_structured_entries_are_derived_from_the_unstructured_one():
    # the Cookbook's section 2.8 forms are not a derivation of their own: the reason
    table = load_table("cookbook-2.8-structured")
    structured = [e for e in table.entries if e.structured]
    assert len(structured) == 4
    for entry in structured:
        unstructured = derive_by_differentials(entry.expr, entry.wrt, entry.where or None)
        assert agrees(unstructured.result, mc.derive(entry.expr, entry.wrt,
                                                     where=entry.where or None))


@pytest.mark.parametrize("expr, wrt, expected", [
    ("||kron(A^0, C + C)||_F", "A", "0"),          # A^0 is I: no rule sees a constant
    ("tr(A^0 B) + x^T A x", "A", "x x^T"),
    ("||X^0 y||^2 + sum(X)", "X", "ones ones^T"),
])
def test_a_part_constant_in_the_variable_has_no_differential(expr, wrt, expected):
    # found by the agreement property: the norm's rule was asked for d of a constant
    result = derive_by_differentials(expr, wrt).result
    assert str(result) == expected == str(mc.derive(expr, wrt))
    assert mc.check(expr, wrt, result=result, seed=3).ok
