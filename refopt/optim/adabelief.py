"""AdaBelief: Adam with the EMA of (g − m)² in place of g² (Zhuang et al. 2020)."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, rule


@base.register_state
class AdaBeliefState(NamedTuple):
    """State of :func:`adabelief`."""

    t: int  # number of updates applied so far
    m: Any  # first moment m_t (not bias-corrected)
    s: Any  # EMA of (g_t − m_t)², plus ε_root each step (not bias-corrected)


@base.rule_factory("adabelief", AdaBeliefState)
def adabelief(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-16,
              eps_root: float = 1e-16, weight_decay: float = 0.0, decay: rule.Decay = "l2",
              maximize: bool = False) -> base.Optimizer:
    r"""AdaBelief: the step shrinks where the gradient departs from its prediction m_t.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon_{root}

    .. math::
        \theta_t = \theta_{t-1} - \eta_t\,\frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \epsilon}

    With ε_root = 0, s_t is exactly Adam's v_t computed on the sequence d_t = g_t − m_t instead
    of g_t (proof page): "belief" in g_t is high when it is close to the EMA m_t.

    **Conventions.** The paper (Algorithm 2) adds one ε in both places, ε_root inside s_t
    (it accumulates in the state) and ε outside the root; refopt names them ``eps_root`` and
    ``eps``. The defaults (both 1e−16) equal ``optax.adabelief(lr)`` (``eps``, ``eps_root``
    there mean the same).

    Args:
      lr: η, a float >= 0 or a schedule ``t -> float``.
      beta1, beta2: EMA rates in [0, 1).
      eps: ε >= 0 added to √ŝ. eps_root: ε_root >= 0 added to s_t at every step.
      weight_decay, decay, maximize: the shared options (``decay`` in l2 / decoupled / fixed).

    Example (a constant gradient becomes perfectly predicted, m → g, so ŝ shrinks and the step
    grows, where Adam's would stay at η; step 1 is η·1/√(0.81 + 0.001) ≈ 1.11e−3):

    >>> import numpy as np, refopt
    >>> opt = refopt.adabelief(lr=1e-3, eps_root=1e-6)
    >>> p, s = np.zeros(1), opt.init(np.zeros(1))
    >>> for _ in range(3):
    ...     q, s = opt.update(np.array([1.0]), s, p); print(round(float(p[0] - q[0]), 6)); p = q
    0.00111
    0.001167
    0.001225

    References: Zhuang et al., *AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients*, NeurIPS 2020, arXiv:2010.07468. Proof page: :ref:`rule-adabelief`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    eps = base.check_real("eps", eps, low=0.0)
    eps_root = base.check_real("eps_root", eps_root, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AdaBeliefState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return AdaBeliefState(t=0, m=zeros, s=zeros)

    def leaf(xp, p, g, m, s, *, lr_t, bc1, bc2):
        m = beta1 * m + (1.0 - beta1) * g
        d = g - m
        s = beta2 * s + (1.0 - beta2) * (d * d) + eps_root
        return p - lr_t * ((m / bc1) / (xp.sqrt(s / bc2) + eps)), m, s

    kernel = rule.leafwise(leaf, reg, n_out=3, name="adabelief")

    def update(grads: Any, state: AdaBeliefState, params: Any) -> tuple[Any, AdaBeliefState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc1, bc2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        params, m, s = kernel(xp, (params, grads, state.m, state.s), lr_t=lr_t, bc1=bc1, bc2=bc2)
        return params, AdaBeliefState(t=t, m=m, s=s)

    return base.optimizer(init, update)
