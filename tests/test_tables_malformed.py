"""Malformed identity tables are refused whole, naming the file, line, entry id and field
(SPEC section 6, section 8: TableError)."""

from __future__ import annotations

import pytest

import matrixcalc as mc
from matrixcalc.ops import FUNCTIONS

GOOD = """\
  - id: good
    derivative: tr(A X)
    wrt: X
    equals: A^T
"""

# (name, identities or whole-table text, line, id, field)
CASES = [
    ("unknown-key", GOOD + "  - id: e\n    lhs: A\n    equal: A\n", "equal: A", "e", "equal"),
    ("missing-equals", GOOD + "  - id: e\n    lhs: (A B)^T\n", "id: e", "e", "equals"),
    ("equals-does-not-parse", GOOD + "  - id: e\n    lhs: A\n    equals: A +\n", "equals: A +", "e",
     "equals"),
    ("lhs-does-not-parse", "  - id: e\n    lhs: tr(A B\n    equals: A\n", "lhs:", "e", "lhs"),
    ("unknown-function", "  - id: e\n    derivative: frob(X)\n    wrt: X\n    equals: X\n",
     "frob", "e", "derivative"),
    ("wrt-not-in-expression", "  - id: e\n    derivative: tr(A X)\n    wrt: Y\n"
     "    equals: A^T\n", "wrt:", "e", "wrt"),
    ("wrt-not-a-symbol", "  - id: e\n    derivative: tr(A X)\n    wrt: 2 X\n"
     "    equals: A^T\n", "wrt:", "e", "wrt"),
    ("wrt-with-lhs", "  - id: e\n    lhs: A\n    wrt: A\n    equals: A\n", "wrt:", "e", "wrt"),
    ("missing-wrt", "  - id: e\n    derivative: tr(A X)\n    equals: A^T\n", "id: e", "e", "wrt"),
    ("duplicate-id", GOOD + "  - id: good\n    lhs: A\n    equals: A\n", -1, "good", "id"),
    ("missing-id", "  - lhs: A\n    equals: A\n", "lhs: A", None, "id"),
    ("two-forms", "  - id: e\n    lhs: A\n    derivative: A\n    equals: A\n", "lhs:", "e",
     "lhs"),
    ("no-form", "  - id: e\n    equals: A\n", "id: e", "e", "derivative"),
    ("declaration-contradicts", "  - id: e\n    derivative: tr(A X)\n    wrt: X\n"
     "    where: {A: vector}\n    equals: A^T\n", "where:", "e", "where"),
    ("declaration-contradicts-sides", "  - id: e\n    lhs: x^T A x\n    where: {A: vector}\n"
     "    equals: tr(A x x^T)\n", "where:", "e", "where"),
    ("unknown-assumption", "  - id: e\n    lhs: A\n    where: {A: hermitian}\n"
     "    equals: A\n", "where:", "e", "where"),
    ("sides-differ-in-shape", "  - id: e\n    lhs: A x\n    equals: x^T A\n", "equals:", "e",
     "equals"),
    ("derivative-wrong-shape", "  - id: e\n    derivative: x^T A x\n    wrt: x\n"
     "    equals: x^T (A + A^T)\n", "equals:", "e", "equals"),
    ("equals-is-a-list", "  - id: e\n    lhs: A\n    equals: [A, B]\n", "equals:", "e", "equals"),
    ("entry-duplicate-key", "  - id: e\n    lhs: A\n    lhs: B\n    equals: A\n", "lhs: B", "e",
     "lhs"),
    ("bad-id", "  - id: two words\n    lhs: A\n    equals: A\n", "id: two", "two words", "id"),
    ("hessian-wrong-shape", "  - id: e\n    hessian: x^T A x\n    wrt: x\n"
     "    equals: (A + A^T) x\n", "equals:", "e", "equals"),
]

FUNCTION_CASES = [
    ("function-wrong-derivative-shape", "  - name: f1\n    elementwise: false\n"
     "    derivative: x^T x\n", "derivative:", "f1", "derivative"),
    ("function-elementwise-vector-derivative", "  - name: f2\n    elementwise: true\n"
     "    derivative: x ones\n", "derivative:", "f2", "derivative"),
    ("function-wrong-rule", "  - name: f3\n    elementwise: true\n    definition: x^3\n"
     "    derivative: 2 x^2\n", "derivative:", "f3", "derivative"),
    ("function-builtin-name", "  - name: exp\n    elementwise: true\n"
     "    derivative: exp(x)\n", "name:", "exp", "name"),
    ("function-unknown-key", "  - name: f4\n    elementwise: true\n    derivatives: x\n",
     "derivatives:", "f4", "derivatives"),
    ("function-other-symbol", "  - name: f5\n    elementwise: true\n    derivative: a x\n",
     "derivative:", "f5", "derivative"),
    ("function-not-pointwise", "  - name: f6\n    elementwise: true\n"
     "    derivative: det(x)\n", "derivative:", "f6", "derivative"),
    ("function-missing-elementwise", "  - name: f7\n    derivative: x\n", "name: f7", "f7",
     "elementwise"),
    ("function-definition-not-scalar", "  - name: f8\n    elementwise: false\n"
     "    definition: 2 x\n    derivative: 2 I\n", "definition:", "f8", "definition"),
]


def _write(tmp_path, name: str, body: str, section: str = "identities") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"table: {name}\nsource: test\n{section}:\n{body}", encoding="utf-8")
    return str(path)


def _line(path: str, marker) -> int:
    """The 1-based line of the first line containing `marker` (-1: the last `- id:`)."""
    lines = open(path, encoding="utf-8").read().splitlines()
    if marker == -1:
        return max(i for i, text in enumerate(lines, 1) if "- id:" in text)
    return next(i for i, text in enumerate(lines, 1) if marker in text)


def _refused(path: str) -> mc.TableError:
    with pytest.raises(mc.TableError) as caught:
        mc.load_table(path)
    return caught.value


@pytest.mark.parametrize("name, body, line, entry_id, field", CASES,
                         ids=[c[0] for c in CASES])
def test_malformed_identity_is_refused(tmp_path, name, body, line, entry_id, field):
    # the error names the file, the line, the entry's id and the field
    path = _write(tmp_path, name, body)
    error = _refused(path)
    line = _line(path, line)
    assert (error.file, error.table_line, error.entry_id, error.field) == \
        (path, line, entry_id, field), str(error)
    assert error.line == line
    assert path in str(error) and f"`{field}`" in str(error)


@pytest.mark.parametrize("name, body, line, entry_id, field", FUNCTION_CASES,
                         ids=[c[0] for c in FUNCTION_CASES])
def test_malformed_function_is_refused(tmp_path, name, body, line, entry_id, field):
    # a function entry names the function as its id; nothing is registered
    before = set(FUNCTIONS)
    path = _write(tmp_path, name, body, "functions")
    error = _refused(path)
    line = _line(path, line)
    assert (error.file, error.table_line, error.entry_id, error.field) == \
        (path, line, entry_id, field), str(error)
    assert set(FUNCTIONS) == before


@pytest.mark.parametrize("name, text, line, field", [
    ("not-yaml", "table: x\nidentities:\n  - id: e\n    lhs: ||x||\n    equals: x\n", 4,
     "(yaml)"),
    ("not-a-mapping", "- a\n- b\n", 1, "table"),
    ("unknown-top-key", "table: x\nidentity:\n  - id: e\n", 2, "identity"),
    ("identities-not-a-list", "table: x\nidentities: tr(A)\n", 2, "identities"),
    ("missing-identities", "table: x\nsource: y\n", 1, "identities"),
])
def test_malformed_table_is_refused(tmp_path, name, text, line, field):
    # top-level mistakes have no entry id
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    error = _refused(str(path))
    assert (error.table_line, error.entry_id, error.field) == (line, None, field), str(error)


def test_a_malformed_table_is_refused_whole(tmp_path):
    # a good function before a bad identity is not registered
    body = ("functions:\n  - name: cube_t\n    elementwise: true\n    definition: x^3\n"
            "    derivative: 3 x^2\nidentities:\n  - id: e\n    lhs: cube_t(A)\n"
            "    equals: A +\n")
    path = tmp_path / "whole.yaml"
    path.write_text("table: whole\n" + body, encoding="utf-8")
    _refused(str(path))
    assert "cube_t" not in FUNCTIONS


def test_safe_loader_only(tmp_path):
    # YAML tags that would build Python objects are refused
    path = tmp_path / "unsafe.yaml"
    path.write_text("table: !!python/object/apply:os.system ['true']\nidentities: []\n",
                    encoding="utf-8")
    with pytest.raises(mc.TableError):
        mc.load_table(str(path))


def test_cli_malformed_exit_status(tmp_path, capsys):
    # `matrixcalc table verify` exits 2 for a malformed table
    from matrixcalc.cli import main
    path = _write(tmp_path, "bad", "  - id: e\n    lhs: A\n")
    assert main(["table", "verify", path]) == 2
    assert "equals" in capsys.readouterr().err
