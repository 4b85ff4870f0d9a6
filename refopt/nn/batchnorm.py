r"""Batch normalization (Ioffe & Szegedy 2015) with a hand-derived backward pass.

Train mode normalises each feature with the batch's mean and *biased* variance,

.. math:: \mu = \tfrac1N\textstyle\sum_n x_n,\quad \sigma^2 = \tfrac1N\sum_n (x_n-\mu)^2,\quad
   \hat x_n = \frac{x_n-\mu}{\sqrt{\sigma^2+\epsilon}},\quad y_n = \gamma\hat x_n + \beta

and its backward pass is the compact formula derived on ``nn-batchnorm``:

.. math:: \frac{\partial L}{\partial x_n} = \frac{\gamma}{N\sqrt{\sigma^2+\epsilon}}
   \Big(N\,dy_n - \textstyle\sum_m dy_m - \hat x_n \sum_m dy_m \hat x_m\Big),\quad
   \frac{\partial L}{\partial\gamma} = \sum_n dy_n\hat x_n,\quad
   \frac{\partial L}{\partial\beta} = \sum_n dy_n

Eval mode uses running statistics in place of (μ, σ²). **Conventions.** ``average="exponential"``
keeps r ← (1 − m) r + m s with the *unbiased* batch variance N σ²/(N − 1) and m = ``momentum``
(torch.nn.BatchNorm1d's definition, m = 0.1); ``average="cumulative"`` keeps the plain mean over
all batches seen so far — the paper's population statistics (Algorithm 2: E[x] = E_B[μ_B],
Var[x] = N/(N−1) E_B[σ²_B]), which torch gives with ``momentum=None``.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import array_api_compat

from refopt import base


class BatchNormCache(NamedTuple):
    """What the backward pass needs from a train-mode forward."""

    xhat: Any      # x̂ = (x − μ)/√(σ² + ε), (N, d)
    inv_std: Any   # 1/√(σ² + ε), (d,)
    gamma: Any     # γ, (d,)


@base.register_state
class RunningStats(NamedTuple):
    """Running estimates for eval mode."""

    mean: Any       # running mean, (d,)
    var: Any        # running (unbiased) variance, (d,)
    n_batches: int  # batches folded in so far (the cumulative average's count)


def batchnorm_forward(x: Any, gamma: Any, beta: Any, *, eps: float = 1e-5
                      ) -> tuple[Any, BatchNormCache, tuple[Any, Any]]:
    """Train mode: (y, cache for the backward pass, (μ, biased σ²) for the running statistics).

    Each feature of y has batch mean β and (biased) standard deviation γ, up to ε:

    >>> import numpy as np
    >>> y, _, _ = batchnorm_forward(np.array([[1.0, 10.0], [3.0, 30.0]]), np.ones(2), np.zeros(2), eps=0.0)
    >>> print(y)
    [[-1. -1.]
     [ 1.  1.]]
    """
    eps = base.check_real("eps", eps, low=0.0)
    if x.ndim != 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError(f"batchnorm_forward expects x (N, d), gamma (d,), beta (d,); got x "
                         f"{tuple(x.shape)}, gamma {tuple(gamma.shape)}, beta {tuple(beta.shape)}")
    xp = array_api_compat.array_namespace(x, gamma, beta)
    mean = xp.mean(x, axis=0)
    centred = x - mean
    var = xp.mean(centred * centred, axis=0)      # biased: the paper's σ²_B (no |·|: complex-step safe)
    inv_std = 1.0 / xp.sqrt(var + eps)
    xhat = centred * inv_std
    return gamma * xhat + beta, BatchNormCache(xhat, inv_std, gamma), (mean, var)


def batchnorm_backward(cache: BatchNormCache, dy: Any) -> tuple[Any, Any, Any]:
    """(dx, dγ, dβ) from dy = ∂L/∂y by the compact formula (proof page :ref:`nn-batchnorm`)."""
    xp = array_api_compat.array_namespace(dy, cache.xhat)
    n = dy.shape[0]
    dbeta = xp.sum(dy, axis=0)
    dgamma = xp.sum(dy * cache.xhat, axis=0)
    dx = (cache.gamma * cache.inv_std / n) * (n * dy - dbeta - cache.xhat * dgamma)
    return dx, dgamma, dbeta


def batchnorm_eval(x: Any, gamma: Any, beta: Any, running: RunningStats, *, eps: float = 1e-5) -> Any:
    """Eval mode: y = γ (x − r_mean)/√(r_var + ε) + β."""
    xp = array_api_compat.array_namespace(x, gamma, beta)
    return gamma * ((x - running.mean) / xp.sqrt(running.var + eps)) + beta


def init_running(like: Any) -> RunningStats:
    """Running mean 0 and variance 1 (torch's start), shaped like the (d,) array ``like``."""
    xp = array_api_compat.array_namespace(like)
    return RunningStats(xp.zeros_like(like), xp.ones_like(like), 0)


def update_running(running: RunningStats, batch_stats: tuple[Any, Any], n: int, *,
                   momentum: float = 0.1,
                   average: Literal["exponential", "cumulative"] = "exponential") -> RunningStats:
    """Fold one batch's (μ, biased σ²) of ``n`` examples into the running statistics.

    ``exponential``: r ← (1 − m) r + m s. ``cumulative``: r ← r + (s − r)/k at the k-th batch,
    the mean of all batches' s. In both, s for the variance is the unbiased n σ²/(n − 1).
    """
    momentum = base.check_real("momentum", momentum, low=0.0, high=1.0)
    base.check_choice("average", average, ("exponential", "cumulative"))
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (the unbiased variance divides by n − 1), got {n!r}")
    mean, var = batch_stats
    unbiased = var * (n / (n - 1))
    k = running.n_batches + 1
    m = momentum if average == "exponential" else 1.0 / k
    return RunningStats((1.0 - m) * running.mean + m * mean, (1.0 - m) * running.var + m * unbiased, k)
