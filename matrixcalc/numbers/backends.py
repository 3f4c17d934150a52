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


    # -- matrix functions (scipy, imported when first used) ------------------------------------
    def expm(self, x: Any) -> Any:
        import scipy.linalg
        return scipy.linalg.expm(x)

    def logm(self, x: Any) -> Any:
        import scipy.linalg
        return np.real(scipy.linalg.logm(x))

    def sqrtm(self, x: Any) -> Any:
        import scipy.linalg
        return np.real(scipy.linalg.sqrtm(x))

    def frechet(self, function: str, x: Any, directions: list) -> Any:
        """The ordered Fréchet derivative of expm or logm at x along directions E1…Ek: the
        top right block of f of the block bidiagonal [[x, E1, 0…], [0, x, E2…], …]
        (Higham, Functions of Matrices, 2008, (3.16)); scipy's expm_frechet for one."""
        import scipy.linalg
        if function == "expm" and len(directions) == 1:
            return scipy.linalg.expm_frechet(x, directions[0], compute_expm=False)
        n = x.shape[0]
        value = getattr(self, function)(self.bidiagonal(x, directions))
        return value[:n, -n:]

    def bidiagonal(self, x: Any, directions: list) -> Any:
        k, n = len(directions), x.shape[0]
        rows = [[x if j == i else directions[i] if j == i + 1 else np.zeros((n, n))
                 for j in range(k + 1)] for i in range(k + 1)]
        return np.block(rows)

    def sylvester(self, a: Any, b: Any, c: Any) -> Any:
        import scipy.linalg
        return scipy.linalg.solve_sylvester(a, b, c)

    def symmetric_part(self, x: Any) -> Any:
        return (x + x.T) / 2

    def eigh(self, x: Any) -> tuple[Any, Any]:
        """Eigenvalues (ascending) and unit eigenvectors of x's symmetric part."""
        return np.linalg.eigh(self.symmetric_part(x))

    def cholesky(self, x: Any) -> Any:
        return np.linalg.cholesky(self.symmetric_part(x))

    def lower_half(self, x: Any) -> Any:
        return np.tril(x, -1) + np.diag(np.diagonal(x)) / 2

    def signed(self, v: Any) -> Any:
        """A unit vector with the sign that makes its largest entry (in size) positive."""
        return v * np.sign(v[np.argmax(np.abs(v))])


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

    # -- matrix functions, differentiable by torch.func ----------------------------------------
    def expm(self, x: Any) -> Any:
        return self.torch.linalg.matrix_exp(x)

    def primary(self, x: Any, f) -> Any:
        """f(x) = V f(Λ) V^-1 through the (complex) eigendecomposition: the principal
        branch for x diagonalizable with eigenvalues off the closed negative real axis
        (a product of spd matrices too, whose eigenvalues are real and positive)."""
        lam, v = self.torch.linalg.eig(x)
        return (v @ self.torch.diag_embed(f(lam)) @ self.torch.linalg.inv(v)).real

    def logm(self, x: Any) -> Any:
        return self.primary(x, self.torch.log)

    def sqrtm(self, x: Any) -> Any:
        return self.primary(x, self.torch.sqrt)

    def frechet(self, function: str, x: Any, directions: list) -> Any:
        """expm: the top right block of matrix_exp of the block bidiagonal (Higham 2008,
        (3.16)); logm: V (F ∘ (V^-1 E V)) V^-1 with F the first divided differences of log
        at the eigenvalues (Daleckii-Krein; Higham 2008, Theorem 3.11), one direction."""
        n = x.shape[0]
        if function == "expm":
            return self.expm(self.bidiagonal(x, directions))[:n, -n:]
        if len(directions) != 1:
            from ..errors import UnsupportedError
            raise UnsupportedError("the torch backend evaluates dlogm with one direction; "
                                   "use the numpy backend for more")
        lam, v = self.torch.linalg.eig(x)
        gap = lam[:, None] - lam[None, :]
        close = gap.abs() <= 1e-9 * (lam.abs()[:, None] + lam.abs()[None, :])
        logs = self.torch.log(lam)
        divided = self.torch.where(
            close, 1 / lam[:, None].expand(n, n),
            (logs[:, None] - logs[None, :]) / self.torch.where(close, 1, gap))
        inside = self.torch.linalg.solve(v, directions[0].to(v.dtype) @ v)
        return (v @ (divided * inside) @ self.torch.linalg.inv(v)).real

    def bidiagonal(self, x: Any, directions: list) -> Any:
        k, n = len(directions), x.shape[0]
        zero = self.torch.zeros((n, n), dtype=x.dtype)
        rows = [self.torch.cat([x if j == i else directions[i] if j == i + 1 else zero
                                for j in range(k + 1)], dim=1) for i in range(k + 1)]
        return self.torch.cat(rows, dim=0)

    def sylvester(self, a: Any, b: Any, c: Any) -> Any:
        """A Y + Y B = C as (I ⊗ A + B^T ⊗ I) vec(Y) = vec(C) (columns stacked)."""
        m, n = c.shape
        system = self.kron(self.eye(n), a) + self.kron(b.transpose(0, 1), self.eye(m))
        solved = self.torch.linalg.solve(system, self.vec(c))
        return solved.reshape(n, m).transpose(0, 1)

    def symmetric_part(self, x: Any) -> Any:
        return (x + x.transpose(0, 1)) / 2

    def eigh(self, x: Any) -> tuple[Any, Any]:
        return self.torch.linalg.eigh(self.symmetric_part(x))

    def cholesky(self, x: Any) -> Any:
        return self.torch.linalg.cholesky(self.symmetric_part(x))

    def lower_half(self, x: Any) -> Any:
        return self.torch.tril(x, -1) + self.torch.diag_embed(self.torch.diagonal(x)) / 2

    def signed(self, v: Any) -> Any:
        top = (v.abs() == v.abs().max()).to(v.dtype)  # no data-dependent indexing
        return v * self.torch.sign((v * top).sum())


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
