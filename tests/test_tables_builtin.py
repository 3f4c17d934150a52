"""The built-in identity tables (identities/*.yaml): every entry holds, and how.

Counts per table: how many entries hold symbolically (identical canonical forms) and
how many only numerically (a simplifier gap, or an engine that cannot derive them yet).
The symbolic counts are floors: a better simplifier may raise them, never lower them.
"""

from __future__ import annotations

import pytest

import matrixcalc as mc

TABLES = mc.tables()
load_table = mc.load_table

# table: (entries, at least this many symbolic, entries the engine cannot derive)
EXPECTED = {
    "algebra": (27, 9, set()),
    "cookbook-2.1-determinants": (12, 9, set()),
    "cookbook-2.2-inverses": (6, 3, {"inverse-entries"}),
    "cookbook-2.4-scalar-forms": (27, 19, {"single-entry", "product-with-constant",
                                           "matrix-power-entries"}),
    "cookbook-2.5-traces": (31, 26, {"trace-kron-AX", "trace-kron-XX"}),
    "cookbook-2.6-2.7-norms": (6, 3, set()),
    "cookbook-2.8-structured": (5, 1, {"symmetric-general", "symmetric-trace",
                                       "symmetric-determinant",
                                       "symmetric-log-determinant"}),
    "lesson": (30, 28, set()),
    "matrix-functions": (23, 21, set()),
    "ml-gradients": (24, 19, {"batch-normalization-input", "layer-normalization-input",
                              "layer-normalization-gain"}),
}


def test_the_builtin_tables_are_listed():
    # mc.tables() names every file in identities/
    assert TABLES == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_table_holds(name):
    # every entry holds; the symbolic count is at least the recorded one
    table = load_table(name)
    size, symbolic, unsupported = EXPECTED[name]
    assert len(table) == size
    results = table.results(trials=2)
    wrong = [(r.entry.id, r.error or str(r.verdict.counterexample)) for r in results
             if r.status not in ("symbolic", "numeric")]
    assert not wrong, wrong
    assert sum(r.status == "symbolic" for r in results) >= symbolic
    assert {r.entry.id for r in results if r.unsupported} <= unsupported


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_entries_cite_their_source(name):
    # every entry has a source; Matrix Cookbook entries carry an equation or section
    table = load_table(name)
    for entry in table.entries:
        assert entry.source.strip(), entry.id
        if name.startswith("cookbook"):
            assert entry.ref.strip(), entry.id


def test_verify_returns_one_verdict_per_entry():
    # Table.verify() -> list of Verdicts (SPEC section 5)
    table = mc.load_table("cookbook-2.6-2.7-norms")
    verdicts = table.verify()
    assert len(verdicts) == len(table) and all(v.holds for v in verdicts)
    assert {v.how for v in verdicts} <= {"symbolic", "numeric", "two derivations"}


def test_a_wrong_entry_is_reported(tmp_path):
    # a false identity gets a counterexample, not a pass
    path = tmp_path / "wrong.yaml"
    path.write_text("table: wrong\nsource: test\nidentities:\n"
                    "  - id: bad\n    derivative: tr(A X B)\n    wrt: X\n"
                    "    equals: B^T A^T\n", encoding="utf-8")
    (result,) = mc.load_table(str(path)).results()
    assert result.status == "fails" and result.verdict.counterexample is not None


def test_a_wrong_structured_entry_is_reported(tmp_path):
    # the unstructured derivative is not the structured one of section 2.8
    path = tmp_path / "wrong.yaml"
    path.write_text("source: test\nwhere: {X: symmetric}\nidentities:\n"
                    "  - id: bad\n    derivative: tr(A X)\n    wrt: X\n"
                    "    structured: true\n    equals: A^T\n", encoding="utf-8")
    (result,) = mc.load_table(str(path)).results()
    assert result.status == "fails"


def test_unsupported_derivatives_fall_back_to_numeric():
    # vec-form (order 4) derivatives the engine cannot derive still verify numerically
    table = mc.load_table("cookbook-2.2-inverses")
    (result,) = [r for r in table.results() if r.entry.id == "inverse-entries"]
    assert result.unsupported and result.status == "numeric"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_table_holds_many_trials(name):
    # the same with 25 random points per entry
    results = load_table(name).results(trials=25, seed=1)
    assert all(r.status in ("symbolic", "numeric") for r in results)
