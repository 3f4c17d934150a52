"""The `--json` objects, built from results: one builder per schema, shared by the CLI
(`matrixcalc ... --json`) and the web API (`matrixcalc serve`), so that both print the
same thing. The schemas are documented field by field in the docstring of cli/json_output.py.

Invariant: every builder returns plain JSON data (dicts, lists, strings, numbers, None);
nothing here imports the engine at module level, so importing it stays light.
"""

from __future__ import annotations

from collections.abc import Sequence

PARSE_SCHEMA = "matrixcalc.parse/1"
ERROR_SCHEMA = "matrixcalc.error/1"
DERIVE_SCHEMA = "matrixcalc.derive/1"
VERIFY_SCHEMA = "matrixcalc.verify/1"
CODEGEN_SCHEMA = "matrixcalc.codegen/1"


def dims_json(dims: Sequence) -> list:
    """Concrete sizes as integers, symbolic dimensions as strings."""
    return [int(d) if isinstance(d, int) or str(d).isdigit() else str(d) for d in dims]


def symbol_json(info) -> dict:
    return {"name": info.name, "kind": info.kind, "shape": dims_json(info.shape.dims),
            "assumptions": sorted(info.assumptions), "origin": info.origin}


def index_or_none(result) -> str | None:
    from ..errors import MatrixCalcError
    try:
        return result.index()
    except MatrixCalcError:
        return None


def shared_or_plain(result):
    """The result with repeated parts named (`where t1 = …`); a tensor as it is."""
    return result.shared() if hasattr(result, "shared") else result


def value_json(value):
    import numpy as np
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array.tolist()


def report_json(report) -> dict:
    return {"ok": report.ok, "max_error": report.max_error, "trials": report.trials,
            "seed": report.seed, "sizes": report.sizes,
            "counterexample": str(report.counterexample) if report.counterexample else None}


def error_json(error) -> dict:
    return {"schema": ERROR_SCHEMA,
            "error": {"type": type(error).__name__, "kind": error.kind,
                      "message": error.message, "line": error.line, "column": error.column,
                      "hint": error.hint, "text": str(error)}}


def parse_json(expr, text: str, where, warnings: Sequence[str] = ()) -> dict:
    """`warnings`: the KindWarnings the input caused (SPEC section 2)."""
    return {"schema": PARSE_SCHEMA, "input": text, "where": where,
            "text": str(expr), "latex": expr.latex(), "kind": expr.kind,
            "shape": dims_json(expr.shape),
            "symbols": [symbol_json(info) for info in expr.shapes.values()],
            "warnings": list(warnings)}


def derive_json(which: str, text: str, where, names: list[str], layout: str, expr,
                results: list, report, warnings: Sequence[str] = ()) -> dict:
    """`results`: (wrt names, result) pairs; `report`: a CheckReport or None."""
    return {"schema": DERIVE_SCHEMA, "command": which, "input": text,
            "where": where, "wrt": names, "layout": layout,
            "results": [{"wrt": w, "text": str(r), "latex": r.latex(),
                         "shared": str(shared_or_plain(r)),
                         "index": index_or_none(r), "kind": r.kind,
                         "shape": dims_json(r.shape)} for w, r in results],
            "symbols": [symbol_json(info) for info in expr.shapes.values()],
            "check": report_json(report) if report else None,
            "warnings": list(warnings)}


def verify_json(verdict, statement: str, where, warnings: Sequence[str] = ()) -> dict:
    example = verdict.counterexample
    return {
        "schema": VERIFY_SCHEMA, "statement": statement, "where": where,
        "holds": verdict.holds, "how": verdict.how, "trials": verdict.trials,
        "max_error": verdict.max_error, "seed": verdict.seed, "sizes": verdict.sizes,
        "shapes": verdict.shapes, "diagnosis": verdict.diagnosis,
        "warnings": list(warnings),
        "counterexample": None if example is None else {
            "inputs": {k: value_json(v) for k, v in example.inputs.items()},
            "left": value_json(example.left), "right": value_json(example.right),
            "left_label": example.left_label, "right_label": example.right_label,
            "sizes": example.sizes, "seed": example.seed, "error": example.error}}


def codegen_json(function, text: str, where, names: list[str] | None, backend: str,
                 warnings: Sequence[str] = ()) -> dict:
    """`function`: what mc.lambdify returned (`.inputs`, `.source`)."""
    returns = "value" if names is None else (
        "[value, gradient]" if len(names) == 1 else "[value, [gradients]]")
    return {"schema": CODEGEN_SCHEMA, "input": text, "where": where,
            "wrt": names, "backend": backend, "inputs": list(function.inputs),
            "returns": returns, "source": function.source, "warnings": list(warnings)}
