"""Shared pytest set-up: `--runslow` turns on the tests marked `slow` (fuzzing); a
KindWarning fails a test unless the test asks for one (or draws random expressions).

The default run is deterministic: Hypothesis draws the same examples on every machine
(seeded by each test's source, no example database, no deadline), so CI cannot fail on
an example that a developer never saw. `--runslow` draws fresh examples every run.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.register_profile("fuzz", derandomize=False, deadline=None)
settings.load_profile("deterministic")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--runslow"):
        settings.load_profile("fuzz")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the tests marked slow (fuzzing, long runs)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A KindWarning is an error (pyproject.toml) except in property tests: their random
    # expressions are vector functions on purpose (`x (y^T z)`), where one is expected.
    random_kinds = pytest.mark.filterwarnings("ignore::matrixcalc.KindWarning")
    skip = pytest.mark.skip(reason="slow: run with --runslow (make fuzz)")
    for item in items:
        if "hypothesis" in item.keywords:
            item.add_marker(random_kinds)
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def web_server() -> str:
    """The base URL of one `matrixcalc serve` for the web tests (tests/web_support.py)."""
    pytest.importorskip("starlette", reason="the web extra is missing: pip install -e '.[web]'")
    from web_support import running_server

    with running_server() as url:
        yield url
