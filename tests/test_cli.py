"""The installed `matrixcalc` command (SPEC section 7): output, --json, exit codes.

Each test runs the console script the venv installed (beside sys.executable), as a user
would, in a subprocess; `python -m matrixcalc` is checked to be the same program.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
SCRIPT = BIN / ("matrixcalc.exe" if os.name == "nt" else "matrixcalc")


def run(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "matrixcalc", *args] if module else [str(SCRIPT), *args]
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8",
                          env=env, timeout=120)


def test_the_console_script_is_installed():
    # `matrixcalc = matrixcalc.cli:main` in pyproject.toml, installed by `make`
    assert SCRIPT.exists(), f"no console script at {SCRIPT}: run `make` (pip install -e .)"


def test_parse_prints_text_latex_kind_and_symbols():
    # matrixcalc parse "x^T A x": canonical text first, then kind, LaTeX and symbols
    result = run("parse", "x^T A x")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "x^T A x"
    assert "kind     scalar" in result.stdout
    assert r"latex    x^{\top} A x" in result.stdout
    assert any("x  vector (n)" in line and "(convention)" in line for line in lines)
    assert any("A  matrix (n×n)" in line for line in lines)
    assert result.stderr == ""


def test_parse_where_declares_assumptions():
    # --where "A: symmetric": A is declared, square and symmetric
    result = run("parse", "x^T A x", "--where", "A: symmetric")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "A  matrix" in line)
    assert "symmetric" in line and "(declared)" in line


def test_parse_latex_prints_only_latex():
    # --latex: one line, the LaTeX
    result = run("parse", "1/(2n) ||y - X w||^2", "--latex")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "\\frac{1}{2 n} \\left\\|y - X w\\right\\|_2^{2}\n"


def test_parse_json_schema():
    # --json: one object, schema matrixcalc.parse/1 (documented in cli/json_output.py, README)
    result = run("parse", "x^T A x", "--where", "A: symmetric", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "schema": "matrixcalc.parse/1",
        "input": "x^T A x",
        "where": "A: symmetric",
        "text": "x^T A x",
        "latex": "x^{\\top} A x",
        "kind": "scalar",
        "shape": [],
        "symbols": [
            {"name": "x", "kind": "vector", "shape": ["n"], "assumptions": [],
             "origin": "convention"},
            {"name": "A", "kind": "matrix", "shape": ["n", "n"],
             "assumptions": ["symmetric"], "origin": "declared"},
        ],
        "warnings": [],
    }


def test_parse_json_shapes_of_each_kind():
    # concrete sizes are integers, symbolic ones strings; a row vector is [1, "n"]
    cases = {"W x + b": ("vector", ["n"]), "x^T": ("row vector", [1, "n"]),
             "[1, 2; 3, 4]": ("matrix", [2, 2])}
    for text, (kind, shape) in cases.items():
        data = json.loads(run("parse", text, "--json").stdout)
        assert (data["kind"], data["shape"]) == (kind, shape), text
        assert data["where"] is None
    product = json.loads(run("parse", "A B", "--json").stdout)
    assert product["kind"] == "matrix"
    assert [type(d) for d in product["shape"]] == [str, str]


def test_parse_json_inferred_scalars():
    # SPEC section 2, rule 3: in 1/(2n) the undeclared n is a scalar
    data = json.loads(run("parse", "1/(2n) ||y - X w||^2", "--json").stdout)
    n = next(s for s in data["symbols"] if s["name"] == "n")
    assert n == {"name": "n", "kind": "scalar", "shape": [], "assumptions": [],
                 "origin": "inferred scalar"}


def test_python_dash_m_is_the_same_program():
    # python -m matrixcalc parse ... == matrixcalc parse ...
    assert run("parse", "tr(A B)", module=True).stdout == run("parse", "tr(A B)").stdout


@pytest.mark.parametrize("text, words", [
    ("x^T A x)", "unexpected `)`"),
    ("sin(", "the input ends too early"),
    ("x + A", "cannot add a vector (n) and a matrix"),
    ("frobnicate(x)", "unknown function `frobnicate`"),
    ("", "the input is empty"),
])
def test_bad_input_exits_2_with_the_message_on_stderr(text, words):
    # bad input: exit 2, the message (with a caret where there is a spot) on stderr,
    # nothing on stdout, never a traceback
    result = run("parse", text)
    assert result.returncode == 2
    assert result.stdout == ""
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("matrixcalc parse: ")


def test_shape_error_points_with_a_caret():
    # the caret sits under the `+` of `x + A`
    result = run("parse", "x + A")
    lines = result.stderr.splitlines()
    source = next(i for i, line in enumerate(lines) if line.strip() == "x + A")
    assert lines[source + 1].index("^") == lines[source].index("+")


def test_bad_where_is_a_usage_error():
    # an unknown assumption in --where: exit 2, with a suggestion
    result = run("parse", "x^T A x", "--where", "A: symetric")
    assert result.returncode == 2
    assert "unknown assumption `symetric`" in result.stderr
    assert "did you mean `symmetric`?" in result.stderr


def test_bad_input_with_json_prints_an_error_object():
    # --json and bad input: exit 2, a matrixcalc.error/1 object on stdout, message on stderr
    result = run("parse", "x + A", "--json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["schema"] == "matrixcalc.error/1"
    error = data["error"]
    assert error["type"] == "ShapeError" and error["kind"] == "shape error"
    assert error["message"] == "cannot add a vector (n) and a matrix (m×p)"
    assert (error["line"], error["column"]) == (1, 3)
    assert error["text"].startswith(error["message"])
    assert "cannot add" in result.stderr


@pytest.mark.parametrize("args", [
    (),                                       # no command
    ("frobnicate",),                          # unknown command
    ("parse",),                               # missing EXPR
    ("parse", "x", "--latex", "--json"),      # exclusive formats
    ("parse", "x", "--bogus"),                # unknown option
])
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def test_expression_starting_with_minus():
    # "-x^T x" (with a space) is an expression; "-x" needs `--`, and the error says so
    assert run("parse", "-x^T x").stdout.splitlines()[0] == "-x^T x"
    assert run("parse", "--", "-x").stdout.splitlines()[0] == "-x"
    bare = run("parse", "-x")
    assert bare.returncode == 2
    assert 'matrixcalc parse -- "-x"' in bare.stderr


def test_help_shows_examples_and_exit_codes():
    result = run("--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert 'matrixcalc parse "x^T A x"' in result.stdout
    assert "exit status" in result.stdout
    sub = run("parse", "--help")
    assert sub.returncode == 0
    assert "--where" in sub.stdout and "--json" in sub.stdout and "examples:" in sub.stdout


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("matrixcalc ")


def test_unicode_output_under_an_ascii_locale():
    # a terminal that cannot show × or λ gets escapes, not a UnicodeEncodeError
    env = dict(os.environ, PYTHONIOENCODING="ascii", LC_ALL="C", LANG="C")
    result = subprocess.run([str(SCRIPT), "parse", "λ x^T A x"], capture_output=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"n\\xd7n" in result.stdout or b"n\\u00d7n" in result.stdout


def test_cli_module_is_imported_by_nothing():
    # DESIGN: the cli package sits on top; `import matrixcalc` does not load it
    code = "import sys, matrixcalc; print('matrixcalc.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_demo_derives_and_checks_every_lesson_case():
    # `make demo` = python -m matrixcalc.demo: exit 0; every supported lesson case is
    # derived, compared with the lesson's answer and checked against torch.autograd;
    # batch normalization (problem 3, through mean) among them
    result = subprocess.run([sys.executable, "-m", "matrixcalc.demo"], capture_output=True,
                            text=True, encoding="utf-8", timeout=300,
                            env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    from matrixcalc.demo import LESSON
    unsupported = sum(not c.supported for c in LESSON)
    assert (f"{len(LESSON) - unsupported} derived and checked, {unsupported} not yet "
            f"supported ({len(LESSON)} lesson cases") in result.stdout
    out = result.stdout
    for closed in ["∂/∂x = (A + A^T) x", "∂/∂w = 1/n X^T (sigmoid(X w) - y)",
                   "∂/∂z = sum(y) softmax(z) - y", "∂/∂z = softmax(z) - y",
                   "∂/∂A = B^T", "∂/∂A = A^-T", "∂/∂W = g x^T",
                   "∂/∂[x1, x2] = [2 x1, 1; x2, x1; cos(x1), -sin(x2)]",
                   "∂²/∂[x, y] = [2, 1; 1, 4]",
                   "∂/∂z = diag(softmax(z)) - softmax(z) softmax(z)^T"]:
        assert f"derived   {closed}\n" in out, closed
    # every derived case is checked against autograd, and no check fails
    assert out.count("autograd  ✓ max error") == len(LESSON) - unsupported
    assert "autograd  ✗" not in out and "UNEXPECTED" not in out and "FAILED" not in out
    # the two lesson answers that need an assumption fail without it, as expected
    assert out.count("✗ does not agree") == sum(not c.holds for c in LESSON) == 2
    assert "∂/∂x = g/sqrt(mean((x - mean(x) ones).^2) + eps) - " in out


def test_a_bug_is_an_internal_error_not_a_traceback(monkeypatch, capsys):
    # an exception that is not a MatrixCalcError: one line on stderr, exit 3
    from matrixcalc.cli import main
    from matrixcalc.cli.arguments import expression_argument
    from matrixcalc.cli.registry import COMMANDS, EXIT_INTERNAL, Command

    def broken(args):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(COMMANDS, "parse", Command(
        "parse", "broken", (), (expression_argument,), broken))
    monkeypatch.delenv("MATRIXCALC_DEBUG", raising=False)
    assert main(["parse", "x"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error" in err and "ZeroDivisionError: boom" in err
    assert "Traceback" not in err


def test_readme_examples_are_what_the_cli_prints():
    # every `$ matrixcalc ...` example in README.md prints exactly what the README shows
    import re
    import shlex

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    examples = 0
    for block in re.findall(r"```\n(\$ matrixcalc.*?)```", readme, re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = part.partition("\n")
            if not command.startswith("matrixcalc "):
                continue  # `echo $?`: checked through the exit status below
            quiet = command.endswith(" 2>/dev/null")
            args = shlex.split(command.removesuffix(" 2>/dev/null"))[1:]
            result = run(*args)
            printed = result.stdout + ("" if quiet else result.stderr)
            shown = re.sub(r"\n\$ echo \$\?\n(\d+)\n?$", "\n", shown)
            assert printed.strip("\n") == shown.strip("\n"), command
            examples += 1
    assert examples >= 5
