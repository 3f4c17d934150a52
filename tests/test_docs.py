# The README and docs/ point only at files inside the repository (issue 18).
"""Every file path the README and the documentation name (in backquotes or as a link)
exists in this repository: nothing points outside it (shared/, ../)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PATH = re.compile(r"`([\w./-]+/[\w./-]*\w)`|\]\(([^)#:]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_named_paths_exist_in_the_repository(document):
    text = document.read_text(encoding="utf-8")
    named = {a or b for a, b in PATH.findall(text)}
    named = {p for p in named if not re.fullmatch(r"matrixcalc\.\w+/\d+", p)}  # schemas
    missing = sorted(p for p in named if not (document.parent / p).exists()
                     and not (REPO / p).exists())
    assert not missing, f"{document.name} names paths that are not in the repository: {missing}"
    assert "shared/" not in text and "../" not in text


def test_the_docs_exist():
    # the language, the conventions, the API: the project's own documentation
    assert {p.name for p in DOCUMENTS} >= {"README.md", "language.md", "conventions.md",
                                          "api.md"}
