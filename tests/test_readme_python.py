"""The README's Python examples are what this version prints (run as doctests)."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_examples_hold():
    # every `>>>` example in a ```python block gives the output pasted under it
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs: dict = {}
    failures = []
    for n, block in enumerate(b for b in blocks if ">>>" in b):
        test = parser.get_doctest(block, globs, f"README block {n}", str(README), 0)
        report: list[str] = []
        if runner.run(test, out=report.append).failed:
            failures.append("".join(report))
    assert not failures, "\n".join(failures)
