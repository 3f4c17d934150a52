"""Packaging: the wheel carries grammar/ and identities/, and works installed on its own.

DESIGN: grammar/ and identities/ sit outside the package, so the wheel carries them as
matrixcalc/_data/… (hatch force-include) and matrixcalc/resources.py reads them through
importlib.resources. The wheel is built once per session, installed (without its
dependencies) into a fresh virtual environment that borrows this one's site-packages
through a .pth file (so torch, lark and numpy are not reinstalled, while this checkout's
editable install stays out of sight), and its `matrixcalc` runs from outside the repo.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GRAMMAR = "matrixcalc/_data/grammar/matrixcalc.lark"
IDENTITIES = "matrixcalc/_data/identities/"


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
         str(REPO)], capture_output=True, text=True, timeout=600, env=clean_env())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin folder."""
    venv = tmp_path_factory.mktemp("wheelvenv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300, env=clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    # this venv's packages (lark, numpy, torch) as a plain path entry: its .pth files,
    # among them the editable install of this checkout, are not processed
    (Path(purelib) / "borrowed_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return bindir


@pytest.fixture(scope="module")
def without_torch(installed) -> Path:
    """The same venv, where torch and jax cannot be imported (as after a plain
    `pip install matrixcalc-engine`, which does not pull them)."""
    purelib = subprocess.run(
        [str(installed / "python"), "-c",
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "zz_no_torch.pth").write_text(
        "import sys; sys.modules.update(torch=None, jax=None)\n", encoding="utf-8")
    yield installed
    (Path(purelib) / "zz_no_torch.pth").unlink()


def test_without_torch_the_engine_derives_and_the_checker_says_what_to_install(
        without_torch, tmp_path):
    # pip install matrixcalc-engine (no extras): derive, simplify, evaluate and numpy code
    # work; the checker, torch and JAX code say which extra to install
    code = "\n".join([
        "import numpy as np, matrixcalc as mc",
        "g = mc.derive('x^T A x', 'x')",
        "print(g)",
        "x, A = np.arange(3.0), np.eye(3)",
        "print(mc.lambdify(g)(x=x, A=A).tolist(), g.evaluate({'x': x, 'A': A}).tolist())",
        "for call in (lambda: mc.check('x^T A x', 'x'),",
        "             lambda: mc.lambdify(g, backend='torch'),",
        "             lambda: mc.lambdify(g, backend='jax')):",
        "    try:",
        "        call()",
        "    except mc.MatrixCalcError as error:",
        "        print(error.hint)",
    ])
    result = subprocess.run([str(without_torch / "python"), "-c", code], capture_output=True,
                            text=True, cwd=tmp_path, timeout=300, env=clean_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["(A + A^T) x", "[0.0, 2.0, 4.0] [0.0, 2.0, 4.0]"]
    assert lines[2:] == ["pip install 'matrixcalc-engine[torch]'"] * 2 + [
        "pip install 'matrixcalc-engine[jax]'"]
    cli = subprocess.run([str(without_torch / "matrixcalc"), "derive", "x^T A x", "--wrt", "x",
                          "--check"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=300, env=clean_env())
    assert cli.returncode == 2 and "matrixcalc-engine[torch]" in cli.stderr, cli.stderr


def test_torch_and_jax_are_extras(wheel):
    # the wheel's metadata: torch and jax are not required, only offered as extras
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith("METADATA"))
        text = archive.read(metadata).decode("utf-8")
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    plain = [line for line in requires if "extra ==" not in line]
    assert not any(name in line for line in plain for name in ("torch", "jax")), plain
    assert any("torch" in line and "extra == 'torch'" in line for line in requires)
    assert any("jax" in line and "extra == 'jax'" in line for line in requires)


def test_wheel_carries_grammar_and_identities(wheel):
    # the grammar and the identities folder are inside the wheel, under matrixcalc/_data
    names = zipfile.ZipFile(wheel).namelist()
    assert GRAMMAR in names
    assert any(name.startswith(IDENTITIES) for name in names), names
    grammar = zipfile.ZipFile(wheel).read(GRAMMAR).decode("utf-8")
    assert grammar == (REPO / "grammar" / "matrixcalc.lark").read_text(encoding="utf-8")


def test_wheel_carries_the_web_page(wheel):
    # `matrixcalc serve` serves its page from the package: nothing is fetched elsewhere
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("index.html", "app.js", "style.css", "favicon.svg"):
        assert f"matrixcalc/web/static/{name}" in names


def test_wheel_declares_the_console_script(wheel):
    # [project.scripts] matrixcalc = "matrixcalc.cli:main"
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        text = archive.read(entry_points).decode("utf-8")
    assert "matrixcalc = matrixcalc.cli:main" in text


def test_installed_wheel_runs_the_cli_from_outside_the_repo(installed, tmp_path):
    # the wheel's own `matrixcalc parse "x^T A x"`, run in a folder outside the repo
    result = subprocess.run([str(installed / "matrixcalc"), "parse", "x^T A x"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env=clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "x^T A x"
    assert "A  matrix (n×n)" in result.stdout


def test_installed_wheel_reads_the_grammar_from_the_wheel(installed, tmp_path):
    # matrixcalc and its grammar come from the new venv, not from this checkout
    code = ("import matrixcalc, matrixcalc.resources as r; print(matrixcalc.__file__); "
            "print(r._folder('grammar')); print(r.identities_folder())")
    result = subprocess.run([str(installed / "python"), "-c", code], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120, env=clean_env())
    assert result.returncode == 0, result.stderr
    package, grammar, identities = (Path(line) for line in result.stdout.splitlines())
    venv = installed.parent.resolve()
    for path in (package, grammar, identities):
        assert venv in path.resolve().parents, path
        assert REPO not in path.resolve().parents, path
    assert grammar.parts[-3:] == ("matrixcalc", "_data", "grammar")


def test_import_loads_neither_torch_nor_sympy():
    # DESIGN: only the numeric checker and the torch code generator import torch, inside
    # functions; `import matrixcalc` stays light
    code = ("import sys, matrixcalc; "
            "matrixcalc.parse('x^T A x'); "
            "print(sorted(m for m in ('torch', 'sympy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
