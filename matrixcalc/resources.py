"""The one place that knows where `grammar/` and `identities/` live.

In a source checkout they sit beside the package; in an installed wheel they are
carried inside it as `matrixcalc/_data/grammar` and `matrixcalc/_data/identities`
(see pyproject.toml). Both are read through importlib.resources.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _folder(name: str) -> Traversable:
    packaged = resources.files("matrixcalc").joinpath("_data", name)
    if packaged.is_dir():
        return packaged
    return _CHECKOUT / name


def grammar_text() -> str:
    return _folder("grammar").joinpath("matrixcalc.lark").read_text(encoding="utf-8")


def identities_folder() -> Traversable:
    return _folder("identities")
