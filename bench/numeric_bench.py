"""Closed forms against autodiff: evaluating Hessians and gradients.

Hessians: `mc.lambdify(mc.hessian(...))` (numpy) against torch.func.hessian and
torch.autograd.functional.hessian(vectorize=True), float64, same inputs:
- `x^T A x`, n = 2048;
- the logistic loss, (n, d) = (2048, 256) and (2048, 32).
Gradients: the logistic loss and the two-layer network `||W2 tanh(W1 x) - y||^2` (W1
and W2 together): `mc.lambdify` of the derivatives (numpy), against torch.autograd
(forward + backward) and hand-written numpy. JAX is a peer beside torch where it is
installed: `jax.hessian` / `jax.grad` of the same forward pass under `jax.jit` (CPU,
float64, the compiled function timed after its first call), and the generated JAX code
(`backend="jax"`) under `jax.jit` as well.
Attention: the backward pass of `tr(G^T softmax(Q K^T / sqrt(d)) V)` by Q, K and V, as
generated torch code (`mc.lambdify(..., backend="torch")`, which recomputes P), against
torch.autograd's forward and backward of the same forward pass, (n, d) = (1024, 64).
Times are the best of `repeats` calls after one warm-up call (medians were
unstable here: sub-ms calls rounded up to scheduler slices), ours and each peer's timed
in alternating rounds (`common.paired_best`), each ratio from its own pair; ours is the
best over all pairs. The derivation and code generation are done once, before timing
(and reported separately).
"""

from __future__ import annotations

import time

import numpy as np
from common import best_time, paired_best

import matrixcalc as mc

LOGISTIC = "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"
NET = "||W2 tanh(W1 x) - y||^2"


def _torch():
    import torch
    return torch


def _jax():
    """jax with float64, or None where it is not installed."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_peers(forward, argnums, inputs: dict, derived, order: int, values: dict) -> dict:
    """`jax.grad`/`jax.hessian` of `forward` under jit, and matrixcalc's generated JAX
    code under jit, each returning numpy arrays (blocked until computed)."""
    jax = _jax()
    if jax is None:
        return {}
    import jax.numpy as jnp
    autodiff = (jax.grad if order == 1 else jax.hessian)(forward, argnums=argnums)
    compiled = jax.jit(autodiff)
    args = tuple(jnp.asarray(v) for v in inputs.values())
    generated = mc.lambdify(derived, backend="jax")
    jitted = jax.jit(lambda **kw: generated(**kw))
    named = {k: jnp.asarray(v) for k, v in values.items()}

    def numpy_of(out):
        out = jax.block_until_ready(out)
        return tuple(np.asarray(o) for o in out) if isinstance(out, (tuple, list)) \
            else np.asarray(out)

    return {f"jax.{'grad' if order == 1 else 'hessian'}(jit)":
            lambda: numpy_of(compiled(*args)),
            "matrixcalc JAX code (jit)": lambda: numpy_of(jitted(**named))}


def _compare(name, size, ours, peers: dict, repeats: int, reference=None, build=None):
    row = {"name": name, "size": size}
    if build is not None:
        row["derive_and_codegen_seconds"] = build
    try:
        out = ours()
        best = float("inf")
        for peer, fn in peers.items():
            try:
                got = fn()
                mine, theirs = paired_best(ours, fn, repeats)
                best = min(best, mine)
                row[f"{peer}_seconds"] = theirs
                row[f"paired_{peer}"] = mine  # ours in the rounds beside this peer
                row[f"speedup_vs_{peer}"] = theirs / mine
                a = out if isinstance(out, tuple) else (out,)
                b = got if isinstance(got, tuple) else (got,)
                row[f"max_diff_vs_{peer}"] = max(
                    float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b))
            except Exception as error:  # noqa: BLE001
                row[f"{peer}_error"] = f"{type(error).__name__}: {str(error)[:100]}"
        row["matrixcalc_seconds"] = best if best < float("inf") else best_time(ours, repeats)
    except Exception as error:  # noqa: BLE001
        row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return row


def hessian_quadratic(n: int, repeats: int) -> dict:
    torch = _torch()
    rng = np.random.default_rng(0)
    A, x = rng.standard_normal((n, n)), rng.standard_normal(n)
    start = time.perf_counter()
    f = mc.lambdify(mc.hessian("x^T A x", "x"))
    build = time.perf_counter() - start
    At, xt = torch.from_numpy(A), torch.from_numpy(x)
    g = lambda v: v @ At @ v
    peers = {
        "torch.func.hessian": lambda: torch.func.hessian(g)(xt).numpy(),
        "autograd.hessian(vectorize)": lambda: torch.autograd.functional.hessian(
            g, xt, vectorize=True).numpy(),
    }
    peers |= _jax_peers(lambda v, M: v @ M @ v, 0, {"x": x, "A": A},
                        mc.hessian("x^T A x", "x"), 2, {"A": A, "x": x})
    return _compare("Hessian x^T A x", f"n={n}", lambda: f(A=A, x=x), peers, repeats,
                    build=build)


def _logistic_data(n, d):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    w = rng.standard_normal(d)
    y = (rng.random(n) < 0.5).astype(float)
    return X, w, y


def _jax_logistic(n: int):
    def loss(v, X, y):
        import jax
        import jax.numpy as jnp
        s = jax.nn.sigmoid(X @ v)
        return -(y @ jnp.log(s) + (1 - y) @ jnp.log(1 - s)) / n
    return loss


def hessian_logistic(n: int, d: int, repeats: int) -> dict:
    torch = _torch()
    X, w, y = _logistic_data(n, d)
    start = time.perf_counter()
    H = mc.hessian(LOGISTIC, "w")
    f = mc.lambdify(H)
    build = time.perf_counter() - start
    Xt, yt, wt = torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(w)

    def loss(v):
        s = torch.sigmoid(Xt @ v)
        return -(yt @ torch.log(s) + (1 - yt) @ torch.log(1 - s)) / n

    peers = {
        "torch.func.hessian": lambda: torch.func.hessian(loss)(wt).numpy(),
        "autograd.hessian(vectorize)": lambda: torch.autograd.functional.hessian(
            loss, wt, vectorize=True).numpy(),
    }
    peers |= _jax_peers(_jax_logistic(n), 0, {"w": w, "X": X, "y": y}, H, 2,
                        {"X": X, "w": w, "y": y, "n": n})
    row = _compare("Hessian logistic", f"n={n}, d={d}", lambda: f(X=X, w=w, y=y, n=n),
                   peers, repeats, build=build)
    row["hessian"] = str(H)
    return row


def gradient_logistic(n: int, d: int, repeats: int) -> dict:
    torch = _torch()
    X, w, y = _logistic_data(n, d)
    start = time.perf_counter()
    G = mc.derive(LOGISTIC, "w")
    f = mc.lambdify(G)
    build = time.perf_counter() - start
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def autograd():
        v = torch.from_numpy(w).requires_grad_()
        s = torch.sigmoid(Xt @ v)
        (-(yt @ torch.log(s) + (1 - yt) @ torch.log(1 - s)) / n).backward()
        return v.grad.numpy()

    def hand():
        return X.T @ (1.0 / (1.0 + np.exp(-(X @ w))) - y) / n

    peers = {"torch.autograd": autograd, "numpy by hand": hand}
    peers |= _jax_peers(_jax_logistic(n), 0, {"w": w, "X": X, "y": y}, G, 1,
                        {"X": X, "w": w, "y": y, "n": n})
    row = _compare("gradient logistic", f"n={n}, d={d}", lambda: f(X=X, w=w, y=y, n=n),
                   peers, repeats, build=build)
    row["gradient"] = str(G)
    return row


def gradient_network(h: int, d: int, o: int, repeats: int) -> dict:
    torch = _torch()
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((h, d)) / np.sqrt(d)
    W2 = rng.standard_normal((o, h)) / np.sqrt(h)
    x, y = rng.standard_normal(d), rng.standard_normal(o)
    start = time.perf_counter()
    G = mc.derive(NET, ["W1", "W2"])
    f = mc.lambdify(list(G))
    build = time.perf_counter() - start
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def autograd():
        a = torch.from_numpy(W1).requires_grad_()
        b = torch.from_numpy(W2).requires_grad_()
        ((b @ torch.tanh(a @ xt) - yt) ** 2).sum().backward()
        return a.grad.numpy(), b.grad.numpy()

    def hand():
        t = np.tanh(W1 @ x)
        r = 2.0 * (W2 @ t - y)
        return np.outer((W2.T @ r) * (1.0 - t * t), x), np.outer(r, t)

    def net(a, b, u, v):
        import jax.numpy as jnp
        return jnp.sum((b @ jnp.tanh(a @ u) - v) ** 2)

    peers = {"torch.autograd": autograd, "numpy by hand": hand}
    peers |= _jax_peers(net, (0, 1), {"W1": W1, "W2": W2, "x": x, "y": y}, list(G), 1,
                        {"W1": W1, "W2": W2, "x": x, "y": y})
    row = _compare("gradient two-layer net", f"W1 {h}×{d}, W2 {o}×{h}",
                   lambda: tuple(f(W1=W1, W2=W2, x=x, y=y)), peers, repeats, build=build)
    row["gradient"] = "; ".join(map(str, G))
    return row


ATTENTION = "tr(G^T softmax(Q K^T / sqrt(d)) V)"


def gradient_attention(n: int, d: int, repeats: int) -> dict:
    """dQ, dK, dV of attention as generated torch code vs torch.autograd (forward and
    backward of softmax(Q K^T/sqrt(d)) V with the output's gradient G), float64."""
    torch = _torch()
    g = torch.Generator().manual_seed(0)
    Q, K, V, G = (torch.randn(n, d, generator=g, dtype=torch.float64) for _ in range(4))
    start = time.perf_counter()
    grads = mc.derive(ATTENTION, ["Q", "K", "V"], where="Q: matrix(n, d)")
    f = mc.lambdify(list(grads), backend="torch")
    build = time.perf_counter() - start

    def ours():
        return tuple(t.numpy() for t in f(Q=Q, K=K, V=V, G=G))

    def autograd():
        q, k, v = (t.clone().requires_grad_() for t in (Q, K, V))
        (torch.softmax(q @ k.T / d ** 0.5, dim=-1) @ v).backward(G)
        return q.grad.numpy(), k.grad.numpy(), v.grad.numpy()

    row = _compare("attention backward (torch code)", f"n={n}, d={d}", ours,
                   {"torch.autograd": autograd}, repeats, build=build)
    row["gradient"] = "; ".join(map(str, grads))
    return row


def run(quick: bool = False, repeats: int = 5) -> dict:
    if quick:
        rows = [hessian_quadratic(64, 1), hessian_logistic(64, 8, 1),
                gradient_logistic(64, 8, 1), gradient_network(16, 8, 4, 1),
                gradient_attention(32, 8, 1)]
    else:
        # gradients first: after the 2048×2048 Hessians the allocator's state slows
        # every small call (seen: the network gradient 16 ms instead of 2.3 ms)
        rows = [gradient_logistic(2048, 256, repeats * 4),
                gradient_network(1024, 512, 64, repeats * 4),
                gradient_attention(1024, 64, repeats * 4),
                hessian_quadratic(2048, repeats),
                hessian_logistic(2048, 256, repeats), hessian_logistic(2048, 32, repeats)]
    jax = _jax()
    return {"benchmark": "numeric", "repeats": repeats,
            "jax": jax.__version__ if jax else "not installed: skipped", "rows": rows}


if __name__ == "__main__":
    import json
    import sys
    if sys.argv[1:] == ["attention"]:  # the attention row alone
        print(json.dumps(gradient_attention(1024, 64, 20), indent=1))
    else:
        print(json.dumps(run(quick=False), indent=1))
