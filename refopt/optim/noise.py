"""Annealed Gaussian gradient noise around any rule (:ref:`spec-classic`; Neelakantan et al. 2015)."""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from refopt import _xp, base
from refopt import tree as _tree


@base.register_state
class GradientNoiseState(NamedTuple):
    """State of :func:`add_gradient_noise`."""

    t: int       # number of updates applied so far
    inner: Any   # the wrapped rule's state


def noise_tree(like: Any, *, seed: int, t: int, std: float) -> Any:
    """Counter-based N(0, std²) noise shaped like ``like``.

    Leaf ``i`` at step ``t`` draws from NumPy's PCG64 seeded with the SeedSequence
    ``[seed, t, i]``, in float64 on the host, then is cast to the leaf's dtype and moved to its
    namespace and device. The same (seed, t) therefore gives the same noise on every backend,
    and ``update`` stays a pure function of its arguments.
    """
    xp = _xp.namespace(like)
    leaves, treedef = _tree.flatten(like)
    out = []
    for i, leaf in enumerate(leaves):
        rng = np.random.default_rng([seed, t, i])
        host = rng.standard_normal(tuple(leaf.shape)) * std
        out.append(xp.asarray(xp.asarray(host), dtype=leaf.dtype, device=_xp.device(leaf)))
    return _tree.unflatten(treedef, out)


@base.rule_factory("add_gradient_noise", GradientNoiseState)
def add_gradient_noise(inner: base.Optimizer, *, eta: float = 0.01, gamma: float = 0.55,
                       seed: int = 0) -> base.Optimizer:
    r"""Add annealed Gaussian noise to the gradient before ``inner`` sees it.

    .. math:: g_t \leftarrow g_t + \mathcal N(0, \sigma_t^2),\qquad
              \sigma_t^2 = \frac{\eta_n}{(1 + t)^{\gamma}}

    with t counted **from 0** at the first update (Neelakantan et al.), η_n = ``eta``
    (the paper tried 0.01, 0.3, 1) and γ = ``gamma`` = 0.55. For a look-ahead rule that takes
    ``grad_fn`` (and ``grads=None``), the noise is added to what ``grad_fn`` returns.

    Example:

    >>> import numpy as np, refopt
    >>> opt = refopt.add_gradient_noise(refopt.sgd(lr=0.1), eta=0.01, seed=0)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(100):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 0.1)
    True

    References: Neelakantan et al., arXiv:1511.06807. Proof page: :ref:`rule-gradient-noise`.
    """
    if not isinstance(inner, base.Optimizer):
        raise TypeError(f"inner must be a refopt Optimizer, got {type(inner).__name__}")
    eta = base.check_real("eta", eta, low=0.0)
    gamma = base.check_real("gamma", gamma, low=0.0)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    seed = int(seed)

    def init(params: Any) -> GradientNoiseState:
        return GradientNoiseState(t=0, inner=inner.init(params))

    def update(grads: Any, state: GradientNoiseState, params: Any,
               **oracles: Any) -> tuple[Any, GradientNoiseState]:
        std = (eta / (1.0 + state.t) ** gamma) ** 0.5   # t from 0 at the first update

        def noisy(g):
            return _tree.map(lambda a, b: a + b, g, noise_tree(g, seed=seed, t=state.t, std=std))

        if grads is None and "grad_fn" in oracles:
            grad_fn = oracles["grad_fn"]
            oracles = {**oracles, "grad_fn": lambda p: noisy(grad_fn(p))}
        else:
            base.check_update_args(grads, state.inner, params)
            grads = noisy(grads)
        params, inner_state = inner.update(grads, state.inner, params, **oracles)
        return params, GradientNoiseState(t=state.t + 1, inner=inner_state)

    return base.optimizer(init, update, inner.extra_args)  # the wrapper passes them through
