"""Expression swell: derivation time and printed size against depth.

- chain: the gradient of `a^T X1 X2 … Xk b` with respect to X1, k = 2 … 32;
- network: the gradient of `||Wk tanh(… tanh(W1 x)) - y||^2` with respect to W1,
  depth 1 … 8.

matrixcalc: `mc.derive` (median of `repeats`), size = len(str(result)), shared size =
len(str(result.shared())) (each repeated part named once, `… where t1 = tanh(W1 x)`,
as a person would write a deep network's gradient). SymPy: the same
expression through `mc.to_sympy` (the network's norm written as rᵀr), `.diff`, with a
time limit; once SymPy runs over it, larger sizes are skipped.
"""

from __future__ import annotations

from common import Timeout, median_time, time_limit

import matrixcalc as mc


def chain(k: int) -> str:
    return "a^T " + " ".join(f"X{i}" for i in range(1, k + 1)) + " b"


def network(depth: int, sympy_form: bool = False) -> str:
    inner = "x"
    for i in range(1, depth + 1):
        inner = f"W{i} {inner}" if i == depth else f"tanh(W{i} {inner})"
    r = f"{inner} - y"
    return f"({r})^T ({r})" if sympy_form else f"||{r}||^2"


def _sympy(text: str, wrt: str, repeats: int, limit: float) -> dict:
    from sympy.core.cache import clear_cache
    from sympy.matrices.expressions import MatrixSymbol
    try:
        s = mc.to_sympy(mc.parse(text))
        x = next(a for a in s.atoms(MatrixSymbol) if str(a) == wrt)
        with time_limit(limit):
            seconds = median_time(lambda: s.diff(x), repeats, before=clear_cache)
            d = s.diff(x)
        return {"seconds": seconds, "size": len(str(d))}
    except Timeout as error:
        return {"error": f"timeout {error}"}
    except Exception as error:  # noqa: BLE001
        return {"error": f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"}


def _series(name, sizes, text_of, sympy_text_of, repeats, sympy_limit):
    rows, sympy_on = [], True
    for k in sizes:
        text = text_of(k)
        row = {"series": name, "depth": k, "input_size": len(text)}
        try:
            e = mc.parse(text)
            mc.derive(e, "X1" if name == "chain" else "W1")
            row["seconds"] = median_time(
                lambda e=e: mc.derive(e, "X1" if name == "chain" else "W1"), repeats)
            r = mc.derive(e, "X1" if name == "chain" else "W1")
            row["size"] = len(str(r))
            row["shared_size"] = len(str(r.shared()))  # repeated parts named once
            row["result"] = str(r) if len(str(r)) < 400 else str(r)[:400] + "…"
        except Exception as error:  # noqa: BLE001
            row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"
        if sympy_on:
            row["sympy"] = _sympy(sympy_text_of(k), "X1" if name == "chain" else "W1",
                                  max(1, repeats // 2), sympy_limit)
            sympy_on = "error" not in row["sympy"] or "timeout" not in row["sympy"]["error"]
        else:
            row["sympy"] = {"error": "skipped (timed out at a smaller size)"}
        rows.append(row)
    return rows


def run(chain_sizes=(2, 4, 8, 16, 32), depths=(1, 2, 3, 4, 5, 6, 7, 8), repeats: int = 3,
        sympy_limit: float = 20.0) -> dict:
    rows = _series("chain", chain_sizes, chain, chain, repeats, sympy_limit)
    rows += _series("network", depths, network, lambda d: network(d, True), repeats,
                    sympy_limit)
    return {"benchmark": "swell", "repeats": repeats, "rows": rows}


if __name__ == "__main__":
    for row in run(chain_sizes=(2, 4, 8), depths=(1, 2, 3), repeats=1)["rows"]:
        print(row["series"], row["depth"], row.get("seconds"), row.get("size"),
              row["sympy"])
