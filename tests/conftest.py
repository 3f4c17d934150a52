"""Shared pytest set-up: `--runslow` turns on the tests marked `slow` (fuzzing)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the tests marked slow (fuzzing, long runs)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow (make fuzz)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
