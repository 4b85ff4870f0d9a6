"""AGD: auto-switchable optimizer with stepwise gradient difference (:ref:`spec-agd`; seed 004)."""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from refopt import _xp, base, rule
from refopt import tree as _tree


@base.register_state
class AGDState(NamedTuple):
    """State of :func:`agd` with ``amsgrad=False``."""

    t: int      # number of updates applied so far
    m: Any      # first-moment EMA m_t
    b: Any      # EMA of squared stepwise differences s_t² (b_t)


@base.register_state
class AGDAMSGradState(NamedTuple):
    """State of :func:`agd` with ``amsgrad=True``."""

    t: int      # number of updates applied so far
    m: Any      # first-moment EMA m_t
    b: Any      # EMA of squared stepwise differences s_t² (b_t)
    b_max: Any  # running max of b_t


@base.rule_factory("agd", (AGDState, AGDAMSGradState))
def agd(lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999, *, delta: float = 1e-5,
        amsgrad: bool = False, clip: float | None = None, weight_decay: float = 0.0,
        decay: rule.Decay = "decoupled", maximize: bool = False) -> base.Optimizer:
    r"""AGD (Yue et al., NeurIPS 2023), exactly as the authors' PyTorch code computes it.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        s_t = \frac{m_t}{1-\beta_1^t} - \frac{m_{t-1}}{1-\beta_1^{t-1}}\ (s_1 = g_1),\qquad
        b_t = \beta_2 b_{t-1} + (1-\beta_2) s_t^2

    .. math::
        \theta_t = \theta_{t-1} - \eta_t\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,
          \frac{m_t}{\max(\sqrt{b_t},\ \delta\sqrt{1-\beta_2^t})}
        = \theta_{t-1} - \eta_t\,\frac{\hat m_t}{\max(\sqrt{\hat b_t},\ \delta)}

    **Auto-switch.** Coordinates with √b̂_t ≤ δ take an SGD-with-momentum step η m̂_t/δ, the
    others an adaptive step; :func:`~refopt.research.agd_sgd_fraction` reports the fraction in SGD mode.
    ``amsgrad`` uses the running max of b_t under the same clamp; ``clip`` clamps
    m_t/max(√b_t, δ√(1−β2^t)) to ±clip before the scaling (both are in the authors' code, not
    the paper). With δ = 0, coordinates whose denominator is 0 take no step.

    **Conventions.** Weight decay is decoupled by default, θ ← θ(1 − ηλ) with the raw η
    (``decay="fixed"``: θ(1 − λ); ``"l2"``: g + λθ), as in the authors' code. δ = 1e−5 is the
    default; the authors' README recommends 1e−14 for Transformers. Provenance: [V] against the
    official code (paper Algorithm 1 not read); see :ref:`spec-agd`.

    Example (step 1 is −η·sign(g₁) where \|g₁\| > δ):

    >>> import numpy as np, refopt
    >>> opt = refopt.agd(lr=0.1)
    >>> p, s = opt.update(np.array([0.5, -2e-6]), opt.init(np.zeros(2)), np.zeros(2))
    >>> print(p)
    [-0.1   0.02]

    References: Yue, Ye, Jiang, Liu, Zhang, arXiv:2312.01658. Proof page: :ref:`rule-agd`.
    """
    lr_fn = base.as_schedule("lr", lr)
    beta1 = base.check_beta("beta1", beta1)
    beta2 = base.check_beta("beta2", beta2)
    delta = base.check_real("delta", delta, low=0.0)
    base.check_bool("amsgrad", amsgrad)
    clip = None if clip is None else base.check_real("clip", clip, low=0.0, low_open=True, finite=False)
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> AGDState | AGDAMSGradState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        if amsgrad:
            return AGDAMSGradState(t=0, m=zeros, b=zeros, b_max=zeros)
        return AGDState(t=0, m=zeros, b=zeros)

    # first: t = 1 (a Python bool, so that the fused path chooses between two kernels)
    def leaf(xp, p, g, m_old, b, b_max=None, *, lr_t, bc1, bc1_old, floor, step, first):
        m = beta1 * m_old + (1.0 - beta1) * g
        s = m / bc1 - m_old / bc1_old if not first else m / bc1
        b = beta2 * b + (1.0 - beta2) * (s * s)
        if amsgrad:
            b_max = xp.maximum(b_max, b)
        root = xp.sqrt(b_max if amsgrad else b)
        # ones·δ_t: the array δ_t in root's dtype, as full_like(root, δ_t) (not traceable)
        denom = xp.where(root > floor, root, xp.ones_like(root) * floor)
        zero = denom == 0
        ratio = xp.where(zero, xp.zeros_like(m), m / xp.where(zero, xp.ones_like(denom), denom))
        if clip is not None:
            ratio = xp.clip(ratio, -clip, clip)
        return (p - step * ratio, m, b) + ((b_max,) if amsgrad else ())

    n_out = 4 if amsgrad else 3
    kernels = {first: rule.leafwise(partial(leaf, first=first), reg, n_out=n_out, name="agd")
               for first in (True, False)}

    def update(grads: Any, state: AGDState | AGDAMSGradState, params: Any
               ) -> tuple[Any, AGDState | AGDAMSGradState]:
        base.check_state_type("agd", state, AGDAMSGradState if amsgrad else AGDState)
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        bc1, bc2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        bc1_old = 1.0 - beta1 ** (t - 1)  # 0 at t = 1, where the old term is absent
        floor = delta * bc2 ** 0.5
        step = lr_t * bc2 ** 0.5 / bc1
        fields = (state.m, state.b) + ((state.b_max,) if amsgrad else ())
        params, *buffers = kernels[t == 1](xp, (params, grads, *fields), lr_t=lr_t, bc1=bc1,
                                           bc1_old=bc1_old, floor=floor, step=step)
        return params, (AGDAMSGradState if amsgrad else AGDState)(t, *buffers)

    return base.optimizer(init, update)


def agd_sgd_fraction(state: AGDState | AGDAMSGradState, *, delta: float = 1e-5,
                     beta2: float = 0.999) -> float:
    """Fraction of coordinates in SGD mode after the last update: √b̂_t ≤ δ (i.e. clamped).

    Pass the ``delta`` and ``beta2`` the optimizer was built with. 0.0 before the first update.
    """
    if state.t == 0:
        return 0.0
    floor = delta * (1.0 - beta2 ** state.t) ** 0.5
    # the clamp acts on the denominator's own buffer: b_max under amsgrad, b otherwise
    source = state.b_max if isinstance(state, AGDAMSGradState) else state.b
    clamped = total = 0
    for leaf in _tree.leaves(source):
        xp = _xp.namespace(leaf)
        clamped += int(xp.sum(xp.astype(xp.sqrt(leaf) <= floor, xp.int64)))
        total += int(leaf.size if isinstance(leaf.size, int) else xp.size(leaf))
    return clamped / total if total else 0.0
