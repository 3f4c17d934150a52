"""Numeric backends: the `B` that every operator's `evaluate` lambda receives.

A backend wraps an array module (`B.xp`: numpy or torch) and adds the few operations
whose spelling differs between the two. Invariants: every value is a 2-D array
(scalars 1×1, vectors n×1, row vectors 1×n) in float64; nothing here mutates an array in
place, so the torch backend is safe under `torch.func` transforms (jacrev, hessian).
Torch is imported only when a `TorchBackend` is built.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np


class NumpyBackend:
    """numpy arrays, float64."""

    name = "numpy"

    def __init__(self) -> None:
        self.xp = np

    # -- leaves --------------------------------------------------------------------------
    def scalar(self, value: float) -> Any:
        return np.full((1, 1), float(value))

    def eye(self, n: int) -> Any:
        return np.eye(n)

    def ones(self, n: int) -> Any:
        return np.ones((n, 1))

    def asarray(self, value: Any) -> Any:
        return np.asarray(value, dtype=np.float64)

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(value, dtype=np.float64)

    # -- structure -----------------------------------------------------------------------
    def add(self, terms) -> Any:
        return reduce(lambda a, b: a + b, terms)

    def kron(self, x: Any, y: Any) -> Any:
        return np.kron(x, y)

    def transpose(self, x: Any) -> Any:
        return x.T

    def trace(self, x: Any) -> Any:
        return np.trace(x).reshape(1, 1)

    def vec(self, x: Any) -> Any:
        """Columns stacked (Matrix Cookbook 10.2.2): vec(X)[i + m j] = X[i, j]."""
        return x.T.reshape(-1, 1)

    def commutation(self, m: Any, n: Any) -> Any:
        return commutation_matrix(int(np.asarray(m).reshape(())), int(np.asarray(n).reshape(())))

    def unvec(self, v: Any, m: Any, n: Any) -> Any:
        rows, cols = int(np.asarray(m).reshape(())), int(np.asarray(n).reshape(()))
        return v.reshape(cols, rows).T

    def diag_matrix(self, v: Any) -> Any:
        return np.diag(v.reshape(-1))

    def diag_vector(self, x: Any) -> Any:
        return np.diagonal(x).reshape(-1, 1).copy()

    def grid(self, values, rows: int, cols: int) -> Any:
        """A bracket literal: scalar (1×1) entries, row by row."""
        return np.concatenate([np.reshape(v, (1,)) for v in values]).reshape(rows, cols)

    def reshape_fortran(self, x: Any, shape: tuple[int, ...]) -> Any:
        """Reshape reading and writing in column-major order (vec's order)."""
        return np.reshape(x, shape, order="F")

    # -- elementwise and vector functions ---------------------------------------------------
    def sigmoid(self, x: Any) -> Any:
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    def softplus(self, x: Any) -> Any:
        return np.logaddexp(0.0, x)

    def relu(self, x: Any) -> Any:
        return np.maximum(x, 0.0)

    def step(self, x: Any) -> Any:
        return (x > 0).astype(np.float64)

    def erf(self, x: Any) -> Any:
        import scipy.special
        return scipy.special.erf(x)

    def elu(self, x: Any) -> Any:
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))

    def softmax(self, x: Any) -> Any:
        shifted = np.exp(x - x.max(axis=0, keepdims=True))
        return shifted / shifted.sum(axis=0, keepdims=True)

    def logsumexp(self, x: Any) -> Any:
        top = x.max()
        return (top + np.log(np.exp(x - top).sum())).reshape(1, 1)


class TorchBackend:
    """torch tensors, float64; differentiable with torch.autograd and torch.func."""

    name = "torch"

    def __init__(self) -> None:
        from ..optional import require
        torch = require("torch", "the torch backend (and the numeric checker)")
        self.xp = torch
        self.torch = torch
        self.dtype = torch.float64

    # -- leaves --------------------------------------------------------------------------
    def scalar(self, value: float) -> Any:
        return self.torch.full((1, 1), float(value), dtype=self.dtype)

    def eye(self, n: int) -> Any:
        return self.torch.eye(n, dtype=self.dtype)

    def ones(self, n: int) -> Any:
        return self.torch.ones((n, 1), dtype=self.dtype)

    def asarray(self, value: Any) -> Any:
        if isinstance(value, self.torch.Tensor):
            return value.to(self.dtype)
        return self.torch.as_tensor(np.asarray(value, dtype=np.float64))

    def to_numpy(self, value: Any) -> np.ndarray:
        return value.detach().cpu().numpy().astype(np.float64)

    # -- structure -----------------------------------------------------------------------
    def add(self, terms) -> Any:
        return reduce(lambda a, b: a + b, terms)

    def kron(self, x: Any, y: Any) -> Any:
        # as a broadcast product reshaped (torch.kron views its inputs, which fails on a
        # transposed one under torch.func's transforms)
        (p, q), (r, s) = x.shape, y.shape
        return (x[:, None, :, None] * y[None, :, None, :]).reshape(p * r, q * s)

    def transpose(self, x: Any) -> Any:
        return x.transpose(0, 1)

    def trace(self, x: Any) -> Any:
        return self.torch.diagonal(x).sum().reshape(1, 1)

    def vec(self, x: Any) -> Any:
        return x.transpose(0, 1).reshape(-1, 1)

    def commutation(self, m: Any, n: Any) -> Any:
        k = commutation_matrix(int(m.reshape(()).item()), int(n.reshape(()).item()))
        return self.torch.as_tensor(k, dtype=self.torch.float64)

    def unvec(self, v: Any, m: Any, n: Any) -> Any:
        rows, cols = int(m.reshape(()).item()), int(n.reshape(()).item())
        return v.reshape(cols, rows).transpose(0, 1)

    def diag_matrix(self, v: Any) -> Any:
        return self.torch.diag_embed(v.reshape(-1))

    def diag_vector(self, x: Any) -> Any:
        return self.torch.diagonal(x).reshape(-1, 1)

    def grid(self, values, rows: int, cols: int) -> Any:
        return self.torch.cat([v.reshape(1) for v in values]).reshape(rows, cols)

    def reshape_fortran(self, x: Any, shape: tuple[int, ...]) -> Any:
        flat = x.permute(*reversed(range(x.dim()))).reshape(-1)
        return flat.reshape(tuple(reversed(shape))).permute(*reversed(range(len(shape))))

    # -- elementwise and vector functions ---------------------------------------------------
    def sigmoid(self, x: Any) -> Any:
        return self.torch.sigmoid(x)

    def softplus(self, x: Any) -> Any:
        return self.torch.logaddexp(x, self.torch.zeros_like(x))

    def relu(self, x: Any) -> Any:
        return self.torch.relu(x)

    def step(self, x: Any) -> Any:
        return (x > 0).to(x.dtype)

    def erf(self, x: Any) -> Any:
        return self.torch.special.erf(x)

    def elu(self, x: Any) -> Any:
        return self.torch.nn.functional.elu(x)

    def softmax(self, x: Any) -> Any:
        return self.torch.softmax(x, dim=0)

    def logsumexp(self, x: Any) -> Any:
        return self.torch.logsumexp(x.reshape(-1), dim=0).reshape(1, 1)


_BACKENDS: dict[str, Any] = {}


def commutation_matrix(m: int, n: int) -> np.ndarray:
    """K with K vec(A) = vec(A^T) for A m×n (Magnus & Neudecker): K[i n + j, j m + i] = 1."""
    k = np.zeros((m * n, m * n))
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    k[(i * n + j).ravel(), (j * m + i).ravel()] = 1.0
    return k


def backend(name: str = "numpy"):
    """The shared backend object for `name` ("numpy" or "torch")."""
    if name not in _BACKENDS:  # made once; two threads racing keep the first one made
        if name == "numpy":
            _BACKENDS.setdefault(name, NumpyBackend())
        elif name == "torch":
            _BACKENDS.setdefault(name, TorchBackend())
        else:
            from ..errors import UsageError
            raise UsageError(f"unknown backend `{name}`: use \"numpy\" or \"torch\"")
    return _BACKENDS[name]
