"""The helper functions generated code defines (`_mc_shape`, `_mc_axis`) and the shape
check of each input, whose message names the symbol, its kind and its dimensions."""

from __future__ import annotations

from ...language.shapes import dim_text

SHAPE_CHECK = '''def _mc_shape(name, value, shape, kind):
    got = tuple(getattr(value, "shape", ()))
    if got != tuple(shape):
        raise ValueError(f"`{name}` is {kind}, expected shape {tuple(shape)} from the "
                         f"other inputs, not {got}")
'''


AXIS_READ = '''def _mc_axis(name, value, axis, kind):
    got = tuple(getattr(value, "shape", ()))
    if len(got) <= axis:
        raise ValueError(f"`{name}` is {kind}, not of shape {got}")
    return got[axis]
'''


def kind_text(info) -> str:
    """`vector (n)`, `matrix (n×m)`: a symbol's kind and dimensions, as messages say."""
    dims = [d for d in (info.rows, info.cols) if d]
    return info.kind if not dims else f"{info.kind} ({'×'.join(map(dim_text, dims))})"


def shape_checks(g) -> list[str]:
    """One line per input of the Generator `g`: its shape is what the expression implies
    (as matrixcalculus.org's fAndG asserts), with a message naming the symbol and its
    dimensions."""
    lines = []
    for name, symbol in g.symbols.items():
        info = symbol.info
        if info is None or name in g.bound:
            continue
        dims = [d for d in (info.rows, info.cols) if d]
        expected = ", ".join(g.dim(d) for d in dims) + ("," if len(dims) == 1 else "")
        lines.append(f"_mc_shape({name!r}, {g.params[name]}, ({expected}), "
                     f"{kind_text(info)!r})")
    if lines:
        g.helpers["_mc_shape"] = SHAPE_CHECK
    return lines
