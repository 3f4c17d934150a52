"""What an API request may hold, checked in the server before any work is queued.

A request body is one JSON object; every field is optional here and each job says which
it needs. Text fields are bounded (`max_input` characters each, 2,000 by default) so that
no one sends the engine a novel; `values` (for `evaluate`) is bounded by the body size.
Invariant: `Request.from_json` either returns a request whose fields have the types below
or raises a MatrixCalcError (UsageError for a wrong field, LimitError for a long one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import LimitError, UsageError

MAX_INPUT = 2000  # characters in one text field
MAX_TRIALS = 50

TEXT_FIELDS = ("expression", "statement", "where")
CHOICES = {
    "command": ("derive", "jacobian", "hessian"),
    "layout": ("numerator", "denominator"),
    "backend": ("numpy", "torch", "jax"),
}


@dataclass(frozen=True)
class Request:
    expression: str | None = None
    statement: str | None = None
    where: str | None = None
    wrt: tuple[str, ...] = ()
    command: str = "derive"
    layout: str = "numerator"
    backend: str = "numpy"
    method: str = "index"
    check: bool = False
    render: bool = False  # add what the page shows: MathML, words, generated code
    trials: int = 5
    seed: int | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Any, max_input: int = MAX_INPUT) -> Request:
        if not isinstance(body, dict):
            raise UsageError("the request body must be a JSON object")
        unknown = sorted(set(body) - set(cls.__dataclass_fields__))
        if unknown:
            raise UsageError(f"unknown field `{unknown[0]}`; the fields are "
                             f"{', '.join(cls.__dataclass_fields__)}")
        fields: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            fields[name] = _text(body, name, max_input)
        for name, choices in CHOICES.items():
            fields[name] = _choice(body, name, choices, getattr(cls, name))
        fields["method"] = _text(body, "method", 40) or "index"
        fields["wrt"] = _wrt(body.get("wrt"), max_input)
        fields["check"] = _flag(body, "check")
        fields["render"] = _flag(body, "render")
        fields["trials"] = _integer(body, "trials", 5, 1, MAX_TRIALS)
        fields["seed"] = _integer(body, "seed", None, 0, 2**32 - 1)
        fields["values"] = _values(body.get("values"))
        return cls(**fields)

    def need(self, name: str) -> str:
        """The text field `name`, which this job cannot do without."""
        value = getattr(self, name)
        if not value:
            raise UsageError(f"this request needs `{name}`")
        return value


def _text(body: dict, name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"`{name}` must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise LimitError(f"`{name}` is {len(value):,} characters long; the limit is "
                         f"{limit:,}", hint="matrixcalc serve --max-input N raises it")
    return value if value.strip() else None


def _choice(body: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in choices:
        raise UsageError(f"`{name}` must be one of {', '.join(choices)}, not {value!r:.60}")
    return value


def _wrt(value: Any, limit: int) -> tuple[str, ...]:
    """`"x"`, `"x, y"` or `["x", "y"]`: the variables, in order."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(n, str) for n in items):
        raise UsageError("`wrt` must be a name, names separated by commas, or a list of names")
    if sum(len(n) for n in items) > limit:
        raise LimitError(f"`wrt` is longer than {limit:,} characters")
    names = tuple(n.strip() for n in items)
    if any(not n for n in names):
        raise UsageError(f"`wrt` takes symbol names separated by commas, not {value!r:.60}")
    return names


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise UsageError(f"`{name}` must be true or false")
    return value


def _integer(body: dict, name: str, default, low: int, high: int):
    value = body.get(name, default)
    if value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"`{name}` must be an integer from {low} to {high}")
    return value


def _values(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError("`values` must be an object: {name: number or nested lists}")
    return value
