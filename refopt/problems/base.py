"""The objective protocol, finite sums, and reproducible mini-batch sampling.

An :class:`Objective` exposes ``value(x)``, ``grad(x)`` and, where known, ``hessian(x)``,
``hvp(x, v)``, the smoothness ``L`` and strong-convexity ``mu`` constants, the exact
``minimiser``/``min_value``, and the exact gradient flow ``flow(x0, t)`` (the solution of
θ' = −∇ℓ(θ), θ(0) = x0). Unknown facts are ``None`` or raise ``NotImplementedError``.

A :class:`FiniteSum` is ℓ(x) = (1/N) Σ_n ℓ_n(x) with per-example access; mini-batch estimates
are means over an index array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt import _xp
from refopt import tree as _tree


def as_const(xp: Any, value: Any, like: Any) -> Any:
    """A NumPy constant moved into ``like``'s namespace, dtype and device."""
    return xp.asarray(np.asarray(value), dtype=like.dtype, device=_xp.device(like))


class Objective:
    """Base class; subclasses set the known facts and implement value/grad."""

    dim: int | None = None
    L: float | None = None          # ∇ℓ is L-Lipschitz
    mu: float | None = None         # ℓ is μ-strongly convex (None: not, or unknown)
    minimiser: Any = None           # a global minimiser (NumPy), where known exactly
    min_value: float | None = None  # ℓ* where known

    def value(self, x: Any) -> Any:
        raise NotImplementedError

    def grad(self, x: Any) -> Any:
        raise NotImplementedError

    def value_and_grad(self, x: Any) -> tuple[Any, Any]:
        return self.value(x), self.grad(x)

    def hessian(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no Hessian")

    def hvp(self, x: Any, v: Any) -> Any:
        """Hessian–vector product; by default through :meth:`hessian`."""
        return self.hessian(x) @ v

    def flow(self, x0: Any, t: float) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no closed-form gradient flow")


class FiniteSum(Objective):
    """ℓ(x) = (1/N) Σ_n ℓ_n(x). Subclasses implement the per-example quantities."""

    n_examples: int = 0

    def _all(self) -> np.ndarray:
        return np.arange(self.n_examples)

    def check_indices(self, idx: Any) -> np.ndarray:
        idx = np.asarray(idx)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer) or idx.size == 0:
            raise ValueError(f"idx must be a non-empty 1-D integer array, got {idx.dtype} "
                             f"{idx.shape}")
        if idx.min() < 0 or idx.max() >= self.n_examples:
            raise ValueError(f"idx must lie in [0, {self.n_examples - 1}]")
        return idx

    def rows(self, w: Any, idx: Any) -> tuple[Any, Any, Any]:
        """(xp, X[idx], y[idx]) moved to ``w``'s namespace, dtype and device, for objectives
        that store their data as NumPy arrays ``self.X`` and ``self.y``."""
        xp = _xp.namespace(w, names=("w",))
        idx = self.check_indices(idx)
        return xp, as_const(xp, self.X[idx], w), as_const(xp, self.y[idx], w)

    def example_losses(self, x: Any, idx: Any) -> Any:
        raise NotImplementedError

    def example_grads(self, x: Any, idx: Any) -> Any:
        """Per-example gradients, materialised: leading axis of length len(idx)."""
        raise NotImplementedError

    def batch_value_and_grad(self, x: Any, idx: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def example_grad_sq_norms(self, x: Any, idx: Any) -> Any:
        """‖∇ℓ_n(x)‖² for n in idx (default: from materialised per-example gradients)."""
        g = self.example_grads(x, idx)
        total = None
        for leaf in _tree.leaves(g):
            xp = _xp.namespace(leaf)
            part = xp.sum(xp.reshape(leaf * leaf, (leaf.shape[0], -1)), axis=1)
            total = part if total is None else total + part
        return total

    def batch_value(self, x: Any, idx: Any) -> Any:
        return self.batch_value_and_grad(x, idx)[0]

    def batch_grad(self, x: Any, idx: Any) -> Any:
        return self.batch_value_and_grad(x, idx)[1]

    def value(self, x: Any) -> Any:
        return self.batch_value(x, self._all())

    def grad(self, x: Any) -> Any:
        return self.batch_grad(x, self._all())

    def value_and_grad(self, x: Any) -> tuple[Any, Any]:
        return self.batch_value_and_grad(x, self._all())


def epoch_batches(n: int, batch_size: int, *, seed: int, epoch: int, replacement: bool = False,
                  drop_last: bool = False) -> list[np.ndarray]:
    """The mini-batches of one epoch, reproducible from (seed, epoch).

    Without replacement: a permutation from PCG64 seeded with SeedSequence([seed, epoch]), cut
    into consecutive batches (the last one shorter unless ``drop_last``). With replacement:
    ⌈n / batch_size⌉ batches of independent uniform draws from the same generator.
    """
    if not (isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
            and 1 <= batch_size):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    rng = np.random.default_rng([seed, epoch])
    if replacement:
        count = -(-n // batch_size)
        return [rng.integers(0, n, batch_size) for _ in range(count)]
    order = rng.permutation(n)
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if drop_last and len(batches[-1]) < batch_size and len(batches) > 1:
        batches = batches[:-1]
    return batches
