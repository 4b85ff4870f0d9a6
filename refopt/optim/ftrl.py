"""FTRL-Proximal, per coordinate (McMahan et al. 2013, Algorithm 1)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from refopt import base, rule


@base.register_state
class FTRLState(NamedTuple):
    """State of :func:`ftrl`."""

    t: int   # number of updates applied so far
    z: Any   # z_t = Σ_s (g_s − σ_s θ_{s−1}): the linear term of the FTRL objective
    n: Any   # n_t = n_0 + Σ_s g_s²


@base.rule_factory("ftrl", FTRLState)
def ftrl(lr: float = 0.1, l1: float = 0.0, l2: float = 0.0, beta: float = 1.0, *,
         lr_power: float = -0.5, initial_accumulator: float = 0.0, shrinkage: float = 0.0,
         weight_decay: float = 0.0, decay: Literal["l2", "decoupled", "fixed"] = "l2",
         maximize: bool = False) -> base.Optimizer:
    r"""FTRL-Proximal with per-coordinate learning rates (McMahan et al. 2013).

    With p = −``lr_power`` (p = ½ in the paper), per coordinate:

    .. math::
        n_t = n_{t-1} + g_t^2,\quad \sigma_t = \frac{n_t^{p} - n_{t-1}^{p}}{\alpha},\quad
        z_t = z_{t-1} + g_t + 2\lambda_s\theta_{t-1} - \sigma_t\theta_{t-1}

    .. math::
        \theta_t = \begin{cases} 0 & |z_t| \le \lambda_1 \\
        -\dfrac{z_t - \operatorname{sign}(z_t)\lambda_1}{(\beta + n_t^{p})/\alpha + \lambda_2} & \text{else}
        \end{cases}

    θ_t is the exact minimiser of Σ_s g_s θ + ½Σ_s σ_s(θ − θ_{s−1})² + λ1|θ| + ½λ2θ² (with the
    β/α term in σ_1), a soft threshold that produces exact zeros (:ref:`rule-ftrl`). λ_s
    (``shrinkage``) is a loss term λ_sθ² whose gradient enters z but not n. Where
    (β + n^p)/α + λ2 = 0 (β = λ2 = 0 and no gradient yet), every θ is a minimiser and θ is left
    unchanged.

    **Conventions.** ``keras.optimizers.Ftrl(learning_rate=α, learning_rate_power, beta,
    l1_regularization_strength=λ1, l2_regularization_strength=λ2/2,
    l2_shrinkage_regularization_strength=λ_s, initial_accumulator_value=n_0)``: Keras writes
    the stabilising L2 as ½·2λ2 (its λ2 is half the paper's) and starts from n_0 = 0.1.

    Args:
      lr: α, a constant float > 0. l1, l2: λ1, λ2 >= 0. beta: β >= 0.
      lr_power: −p, in [−1, 0] (−½: the paper's √n). initial_accumulator: n_0 >= 0.
      shrinkage: λ_s >= 0. weight_decay, decay, maximize: see :ref:`rule-conventions`.

    Example (losses ½(θ − c)² over 200 rounds: with λ1 = 20 the weakly supported coordinate is
    exactly 0, where plain online gradient steps would only make it small):

    >>> import numpy as np, refopt
    >>> opt, c = refopt.ftrl(lr=0.5, l1=20.0), np.array([0.05, 2.0])
    >>> p = np.array([1.0, -2.0]); s = opt.init(p)
    >>> for _ in range(200):
    ...     p, s = opt.update(p - c, s, p)
    >>> print(p[0] == 0.0, round(float(p[1]), 2))
    True 2.0

    References: McMahan et al., KDD 2013, Algorithm 1. Proof page: :ref:`rule-ftrl`.
    """
    if callable(lr):
        raise TypeError("lr must be a constant float for ftrl (σ_t telescopes only for a fixed α)")
    lr = base.check_real("lr", lr, low=0.0, low_open=True)
    l1 = base.check_real("l1", l1, low=0.0)
    l2 = base.check_real("l2", l2, low=0.0)
    beta = base.check_real("beta", beta, low=0.0)
    power = -base.check_real("lr_power", lr_power, low=-1.0, high=0.0)
    n0 = base.check_real("initial_accumulator", initial_accumulator, low=0.0)
    shrink2 = 2.0 * base.check_real("shrinkage", shrinkage, low=0.0)
    reg = rule.regularisation(weight_decay, decay, maximize)
    lr_fn = base.as_schedule("lr", lr)

    def init(params: Any) -> FTRLState:
        base.check_init_params(params)
        return FTRLState(t=0, z=base.zeros_like(params), n=base.full_like(params, n0))

    # lr_t (the constant α) enters only through decoupled weight decay
    def leaf(xp, p, g, z, n, *, lr_t):
        n_new = n + g * g
        sigma = (n_new ** power - n ** power) / lr
        z = z + ((g + shrink2 * p) - sigma * p)
        quadratic = n_new ** power / lr + (l2 + beta / lr)
        soft = xp.clip(z, min=-l1, max=l1) - z
        safe = xp.where(quadratic > 0, quadratic, xp.ones_like(quadratic))
        return xp.where(quadratic > 0, soft / safe, p), z, n_new

    kernel = rule.leafwise(leaf, reg, n_out=3, name="ftrl")

    def update(grads: Any, state: FTRLState, params: Any) -> tuple[Any, FTRLState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, z, n = kernel(xp, (params, grads, state.z, state.n), lr_t=lr_t)
        return params, FTRLState(t=t, z=z, n=n)

    return base.optimizer(init, update)
