"""The `--json` output of the commands: the schemas, field by field, and the printing (the
objects themselves are built by outputs/json_objects.py, which the web API shares).

`--json` output (stable; a change that breaks a consumer bumps the version in
`"schema"`). Every object has `"schema"`. For `parse`, schema `"matrixcalc.parse/1"`:

    {
      "schema": "matrixcalc.parse/1",
      "input": "x^T A x",            # the expression as given
      "where": "A: symmetric",       # the --where text, or null
      "text": "x^T A x",             # canonical text; mc.parse(text) gives it back
      "latex": "x^{\\top} A x",
      "kind": "scalar",              # scalar | vector | row vector | matrix
      "shape": [],                   # [] scalar, ["n"] vector, [1, "n"] row, ["m", "n"]
      "symbols": [                   # in order of first use
        {"name": "x", "kind": "vector", "shape": ["n"], "assumptions": [],
         "origin": "convention"},   # declared | convention | inferred scalar
        {"name": "A", "kind": "matrix", "shape": ["n", "n"],
         "assumptions": ["symmetric"], "origin": "declared"}
      ],
      "warnings": []                 # the KindWarnings' messages (SPEC section 2)
    }

A dimension is an integer (a concrete size) or a string (a symbolic dimension; a
product of dimensions is written with "·"). Symbol kinds are scalar, vector or matrix;
assumptions are sorted. When the input is bad, `--json` still prints one object to
stdout, schema `"matrixcalc.error/1"`, besides the message on stderr (exit status 2):

    {"schema": "matrixcalc.error/1",
     "error": {"type": "ParseError", "kind": "parse error", "message": "unexpected `)`",
               "line": 1, "column": 5, "hint": null, "text": "<the full message>"}}

`derive`, `jacobian` and `hessian`, schema `"matrixcalc.derive/1"`:

    {
      "schema": "matrixcalc.derive/1",
      "command": "derive",           # derive | jacobian | hessian
      "input": "x^T A x", "where": null,
      "wrt": ["x"],                  # the --wrt names, in order
      "layout": "numerator",         # numerator | denominator
      "results": [                   # derive: one per variable; jacobian/hessian: one
        {"wrt": ["x"], "text": "(A + A^T) x", "latex": "...",
         "shared": "(A + A^T) x",    # repeated parts named: "... where t1 = ..." lines
         "index": "A_{ia} x_{a} + A_{ai} x_{a}",   # null where there is no index form
         "kind": "vector", "shape": ["n"]}
      ],
      "symbols": [...],              # as for parse, of the input expression
      "check": null,                 # with --check: {"ok", "max_error", "trials", "seed",
                                     #   "sizes": [{dim: size}], "counterexample": text|null}
      "warnings": []                 # as for parse
    }

`verify`, schema `"matrixcalc.verify/1"` (exit status 0 holds, 1 does not):

    {"schema": "matrixcalc.verify/1", "statement": "...", "where": null,
     "holds": true, "how": "numeric",    # numeric | symbolic | two derivations
     "trials": 5, "max_error": 0.0, "seed": 123, "sizes": [{"n": 3}, ...],
     "shapes": {"A": "A: matrix (n×m) (convention)", ...},
     "diagnosis": null,            # how a false claim is off, in a sentence, or null
     "warnings": [],               # as for parse
     "counterexample": null}       # or {"inputs": {name: number | nested lists},
                                   #   "left", "right", "left_label", "right_label",
                                   #   "sizes", "seed", "error"}

`codegen`, schema `"matrixcalc.codegen/1"`:

    {"schema": "matrixcalc.codegen/1", "input": "...", "where": null,
     "wrt": ["w"],                 # or null: the value alone
     "backend": "numpy",           # numpy | torch
     "inputs": ["X", "w", "y"],    # the generated function's arguments, in order
     "returns": "[value, gradient]",  # value | [value, gradient] | [value, [gradients]]
     "source": "import numpy as np ...", "warnings": []}
"""

from __future__ import annotations

import json


def json_dumps(value) -> str:
    """Compact JSON, Unicode kept readable but every character a reader would not see as
    itself (as errors.visible decides) escaped: the same value for a JSON reader, nothing
    hidden or reordered for a person."""
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else json.dumps(ch)[1:-1] for ch in text)


def json_text(value, depth: int = 0) -> str:
    """Indented JSON for people too: the top object and its lists and objects one entry
    a line, anything deeper (a symbol, a shape) compact on its line."""
    flat = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
    if depth >= 2 or flat or not isinstance(value, (dict, list)) or not value:
        return json_dumps(value)
    pad, end = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        items = [f"{pad}{json_dumps(k)}: {json_text(v, depth + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    items = [pad + json_text(v, depth + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + end + "]"


def emit_json(obj: dict) -> None:
    print(json_text(obj))
