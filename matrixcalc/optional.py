"""The libraries matrixcalc uses only for some of its work, and how to get them.

`pip install matrixcalc-engine` derives, simplifies, evaluates with numpy and generates
numpy code; torch (the numeric checker, torch code, autograd_function) and jax (JAX code)
are extras, and the web page another: each is imported where it is needed, through
`require`, which says how to install what is missing instead of a bare ImportError.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import UnsupportedError

EXTRAS = {"torch": "torch", "jax": "jax", "starlette": "web", "uvicorn": "web",
          "latex2mathml": "web"}


def require(module: str, feature: str) -> ModuleType:
    """`module` imported, or an UnsupportedError naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module.split(".")[0], module)
        raise UnsupportedError(f"{feature} needs {module.split('.')[0]}, which is not "
                               "installed",
                               hint=f"pip install 'matrixcalc-engine[{extra}]'") from None
