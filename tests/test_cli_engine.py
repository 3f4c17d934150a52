# The installed `matrixcalc` command (SPEC section 7): derive, jacobian, hessian, verify, codegen.
"""Each test runs the venv's console script as a subprocess, with good and bad input, and
checks the output, the `--json` schema and the exit status (0 done / holds, 1 does not
hold or the check failed, 2 bad input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
SCRIPT = BIN / ("matrixcalc.exe" if os.name == "nt" else "matrixcalc")


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120)


def test_derive_prints_the_result_and_checks_it():
    # matrixcalc derive "x^T A x" --wrt x --check: result line, check line, exit 0
    result = run("derive", "x^T A x", "--wrt", "x", "--check", "--seed", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "(A + A^T) x"
    assert lines[1].startswith("check ok")


def test_derive_where_latex_and_index():
    # --where, --latex and --index print only that form
    result = run("derive", "x^T A x", "--wrt", "x", "--where", "A: symmetric")
    assert result.stdout == "2 A x\n", result.stderr
    assert run("derive", "tr(A X B)", "--wrt", "X", "--latex").stdout == \
        "A^{\\top} B^{\\top}\n"
    assert run("derive", "a^T x", "--wrt", "x", "--index").stdout == "a_{i}\n"


def test_derive_json_schema():
    # --json: schema matrixcalc.derive/1 with results, symbols and check
    result = run("derive", "--wrt", "z", "--json", "--check", "--", "-y^T log(softmax(z))")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "matrixcalc.derive/1" and data["command"] == "derive"
    assert data["wrt"] == ["z"] and data["layout"] == "numerator"
    (entry,) = data["results"]
    assert set(entry) == {"wrt", "text", "latex", "shared", "index", "kind", "shape"}
    assert entry["kind"] == "vector" and entry["shape"] == ["n"]
    assert [s["name"] for s in data["symbols"]] == ["y", "z"]
    assert data["check"]["ok"] is True and data["check"]["trials"] == 5


def test_derive_several_variables():
    # --wrt x,y: one line per variable
    result = run("derive", "x^T y", "--wrt", "x,y")
    assert result.stdout.splitlines() == ["d/dx: y", "d/dy: x"], result.stderr


@pytest.mark.parametrize("args, message", [
    (("derive", "x +", "--wrt", "x"), "parse error"),
    (("derive", "x + A", "--wrt", "x"), "shape error"),
    (("derive", "x^T x", "--wrt", "2 x"), "usage error"),
    (("derive", "x^T x"), "--wrt"),
    (("derive", "x^T x", "--wrt", "x", "--latex", "--json"), "not allowed"),
])
def test_bad_input_exits_2_with_a_message(args, message):
    # bad expression, shapes, wrt or options: exit 2, message on stderr, no traceback
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_input_with_json_prints_the_error_object():
    # --json on bad input: schema matrixcalc.error/1 on stdout, exit 2
    result = run("derive", "x +", "--wrt", "x", "--json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["schema"] == "matrixcalc.error/1" and data["error"]["type"] == "ParseError"


def test_jacobian_and_hessian():
    # jacobian of softmax; hessian of x^T A x; stacked scalars
    result = run("jacobian", "softmax(z)", "--wrt", "z")
    assert result.stdout == "diag(softmax(z)) - softmax(z) softmax(z)^T\n", result.stderr
    result = run("hessian", "x^T A x", "--wrt", "x", "--json", "--check", "--seed", "0")
    data = json.loads(result.stdout)
    assert data["command"] == "hessian" and data["results"][0]["text"] == "A + A^T"
    assert data["check"]["ok"] and result.returncode == 0
    result = run("hessian", "x^2 + x y + 2 y^2", "--wrt", "x,y", "--where", "x, y: scalar")
    assert result.stdout == "[2, 1; 1, 4]\n"


def test_verify_exit_codes_and_json():
    # holds: exit 0; does not hold: exit 1 with a counterexample; --json schema
    holds = run("verify", "d/dX tr(A X) = A^T")
    assert holds.returncode == 0 and holds.stdout.startswith("true"), holds.stderr
    fails = run("verify", "(A B)^T = A^T B^T", "--seed", "3")
    assert fails.returncode == 1 and fails.stdout.startswith("false")
    assert "counterexample" in fails.stdout
    data = json.loads(run("verify", "(A B)^T = A^T B^T", "--json", "--seed", "3").stdout)
    assert data["schema"] == "matrixcalc.verify/1" and data["holds"] is False
    assert set(data["counterexample"]) >= {"inputs", "left", "right", "sizes", "seed"}
    assert isinstance(data["counterexample"]["inputs"]["A"], list)
    bad = run("verify", "x = ")
    assert bad.returncode == 2 and "parse error" in bad.stderr


def test_codegen_prints_source_and_json():
    # codegen: the generated function's source; --json has inputs, returns and source
    result = run("codegen", "a^T X1 X2 X3 b", "--wrt", "X1", "--backend", "numpy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("import numpy as np")
    assert "np.outer(a, (b @ X3.T) @ X2.T)" in result.stdout
    compile(result.stdout, "<codegen>", "exec")
    data = json.loads(run("codegen", "x^T A x", "--backend", "torch", "--json").stdout)
    assert data["schema"] == "matrixcalc.codegen/1" and data["backend"] == "torch"
    assert data["inputs"] == ["x", "A"] and data["returns"] == "value" and data["wrt"] is None
    assert "import torch" in data["source"]
    bad = run("codegen", "x", "--backend", "tensorflow")  # jax is a backend (SPEC 7)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_help_lists_every_command_with_examples():
    # --help: every command of SPEC section 7, with examples
    result = run("--help")
    assert result.returncode == 0
    for name in ("derive", "jacobian", "hessian", "verify", "codegen"):
        assert f"matrixcalc {name} " in result.stdout
    sub = run("derive", "--help")
    assert "examples:" in sub.stdout and "--check" in sub.stdout
