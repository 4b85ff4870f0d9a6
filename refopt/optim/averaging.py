"""Parameter averaging around any rule: exponential (EMA) and uniform (Polyak–Ruppert)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, get_args

from refopt import _xp, base, rule
from refopt.elementwise import Kernel

Weights = Literal["exponential", "uniform"]


@base.register_state
class AveragedState(NamedTuple):
    """State of :func:`average_params`."""

    t: int        # number of updates applied so far
    inner: Any    # the wrapped rule's state
    average: Any  # θ̄_t, the averaged parameters (evaluate the model here)


@base.rule_factory("average_params", AveragedState)
def average_params(inner: base.Optimizer, decay: float = 0.999, *, weights: Weights = "exponential",
                   debias: bool = True) -> base.Optimizer:
    r"""Keep a running average θ̄_t of the iterates θ_1, …, θ_t of ``inner`` in the state.

    .. math:: \bar\theta_t = \bar\theta_{t-1} + c_t\,(\theta_t - \bar\theta_{t-1}),\qquad
              \bar\theta_0 = 0

    - ``weights="exponential"``, ``debias=True``: c_t = (1−β)/(1−β^t), so θ̄_t is the
      bias-corrected EMA  m_t/(1−β^t) with m_t = βm_{t−1} + (1−β)θ_t (proof page).
    - ``weights="exponential"``, ``debias=False``: c_t = 1−β, θ̄_t = m_t.
    - ``weights="uniform"``: c_t = 1/t, the arithmetic mean (Polyak & Juditsky 1992);
      ``decay`` is not used.

    The iterates themselves are ``inner``'s, unchanged: the average is read from
    ``state.average`` and never fed back. With c_1 = 1 (debiased or uniform) θ̄_1 = θ_1.

    **Conventions.** θ̄_t equals ``optax.ema(β, debias)`` applied to the sequence θ_1, θ_2, …
    (optax's ``ema`` averages whatever it is given; here it is the parameters).

    Example (uniform weights give the mean of the iterates; SGD on ½θ² halves θ each step):

    >>> import numpy as np, refopt
    >>> opt = refopt.average_params(refopt.sgd(lr=0.5), weights="uniform")
    >>> p = np.array([8.0]); s = opt.init(p)
    >>> for _ in range(3):
    ...     p, s = opt.update(p, s, p)
    >>> print(p, s.average)
    [1.] [2.33333333]

    References: Polyak & Juditsky, SIAM J. Control Optim. 30 (1992). Proof page:
    :ref:`rule-parameter-averaging`.
    """
    rule.check_inner(inner)
    beta = base.check_beta("decay", decay)
    weights = base.check_choice("weights", weights, get_args(Weights))
    debias = base.check_bool("debias", debias)

    def weight(t: int) -> float:
        if weights == "uniform":
            return 1.0 / t
        return (1.0 - beta) / (1.0 - beta ** t) if debias else 1.0 - beta

    def init(params: Any) -> AveragedState:
        return AveragedState(t=0, inner=inner.init(params), average=base.zeros_like(params))

    def leaf(xp, a, p, *, c):
        return a + c * (p - a)

    kernel = Kernel(leaf, 1, "average_params")

    def update(grads: Any, state: AveragedState, params: Any, **oracles: Any
               ) -> tuple[Any, AveragedState]:
        params, inner_state = inner.update(grads, state.inner, params, **oracles)
        t = state.t + 1
        c = weight(t)
        (average,) = kernel(_xp.namespace(params), (state.average, params), c=c)
        return params, AveragedState(t=t, inner=inner_state, average=average)

    return base.optimizer(init, update, inner.extra_args)
