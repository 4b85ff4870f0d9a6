"""SM3: Adagrad with one accumulator per tensor slice instead of per entry (Anil et al. 2019)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule
from refopt import tree as _tree


@base.register_state
class SM3State(NamedTuple):
    """State of :func:`sm3`. ``mu`` is a list with one tuple per leaf (leaves in
    ``refopt.tree.flatten`` order): one accumulator per axis for a leaf of rank ≥ 2, the full
    Adagrad accumulator otherwise."""

    t: int
    mu: list   # μ'_t(r), one vector per axis (cover set r = one slice along that axis)
    m: Any     # momentum of the preconditioned gradient

    # shaped per leaf, not like it (base.check_update_args checks one entry per leaf)
    leaf_summaries = ("mu",)


def _expanded(xp: Any, vec: Any, axis: int, ndim: int) -> Any:
    """A vector along ``axis`` reshaped to broadcast against a rank-``ndim`` leaf."""
    return xp.reshape(vec, tuple(vec.shape[0] if k == axis else 1 for k in range(ndim)))


@base.rule_factory("sm3", SM3State)
def sm3(lr: Any = 0.1, momentum: float = 0.9, *, eps: float = 1e-8, weight_decay: float = 0.0,
        decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""SM3-II (Anil et al. 2019, Algorithm 2) with the slices of each tensor as cover sets.

    For a leaf of rank k ≥ 2 the cover sets are its slices along each axis (rows and columns of
    a matrix), with one accumulator μ'_j per axis j:

    .. math::
        \nu'_t(i) = \min_{j} \mu'_{j,t-1}(i_j) + g_t(i)^2,\qquad
        \mu'_{j,t}(r) = \max_{i:\, i_j = r} \nu'_t(i)

    .. math::
        u_t = g_t/\sqrt{\nu'_t + \epsilon}\ (0 \text{ where } \nu'_t = 0),\quad
        m_t = \beta m_{t-1} + (1-\beta) u_t,\quad \theta_t = \theta_{t-1} - \eta_t m_t

    Leaves of rank < 2 use singletons as cover sets, which is Adagrad: ν'_t = ν'_{t−1} + g_t².
    ν'_t(i) ≥ Σ_{s≤t} g_s(i)² always (proof page), so SM3's steps are never larger than
    Adagrad's, with k vectors of memory instead of a full tensor.

    **Conventions.** ``optax.sm3`` is this rule with ε = 1e−8 inside the root and momentum as an
    EMA with (1 − β) (β = 0.9 there); β = 0 is the paper's SM3-II without momentum.

    Args:
        lr: η_t, float or schedule. momentum: β in [0, 1). eps: ε ≥ 0 inside the square root.
        weight_decay, decay, maximize: the shared options of :mod:`refopt.rule`.

    Example (a 2×3 leaf keeps 2 + 3 accumulator entries; ν' bounds the per-entry sums of g²):

    >>> import numpy as np, refopt
    >>> opt = refopt.sm3(lr=0.1, momentum=0.0)
    >>> state = opt.init(np.zeros((2, 3)))
    >>> g = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    >>> _, state = opt.update(g, state, np.zeros((2, 3)))
    >>> [a.tolist() for a in state.mu[0]]
    [[4.0, 9.0], [1.0, 9.0, 4.0]]

    References: Anil, Gupta, Koren & Singer, "Memory-Efficient Adaptive Optimization",
    NeurIPS 2019 (arXiv:1901.11150). Proof page: :ref:`rule-sm3`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta = base.check_beta("momentum", momentum)
    eps = base.check_real("eps", eps, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> SM3State:
        xp = base.check_init_params(params)

        def accumulators(p):
            if len(p.shape) < 2:
                return (xp.zeros_like(p),)
            return tuple(xp.zeros((n,), dtype=p.dtype) for n in p.shape)

        return SM3State(t=0, mu=[accumulators(p) for p in _tree.leaves(params)],
                        m=base.zeros_like(params))

    def update(grads: Any, state: SM3State, params: Any) -> tuple[Any, SM3State]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        base.check_leaf_summaries_like(state, init(params))

        def preconditioned(g, mu):
            k = len(g.shape)
            if k < 2:
                nu = xp.asarray(mu[0] + g * g)   # a 0-d leaf stays an array (NumPy returns a scalar)
                return nu, (nu,)
            if 0 in tuple(g.shape):
                return g * g, tuple(mu)   # an empty leaf: nothing to accumulate (max of nothing)
            floor = _expanded(xp, mu[0], 0, k)
            for j in range(1, k):
                floor = xp.minimum(floor, _expanded(xp, mu[j], j, k))
            nu = floor + g * g
            return nu, tuple(xp.max(nu, axis=tuple(a for a in range(k) if a != j)) for j in range(k))

        nus, mus = zip(*[preconditioned(g, mu) for g, mu in zip(_tree.leaves(grads), state.mu)]) \
            if state.mu else ((), ())
        nu_tree = _tree.unflatten(_tree.structure(grads), list(nus))

        def leaf(p, g, m, nu):
            positive = nu > 0
            safe = xp.where(positive, nu + eps, xp.ones_like(nu))   # no 0/0 where ν' = 0
            u = xp.where(positive, g / xp.sqrt(safe), xp.zeros_like(g))
            m = beta * m + (1.0 - beta) * u
            return p - lr_t * m, m

        params, m = _tree.map(leaf, params, grads, state.m, nu_tree, n_out=2)
        return params, SM3State(t=t, mu=list(mus), m=m)

    return base.optimizer(init, update)
