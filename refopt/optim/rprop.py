"""Rprop, resilient backpropagation (Riedmiller & Braun 1993; Igel & Hüsken 2000)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from refopt import base, rule

SIGN_CHANGES = ("backtrack", "skip")


@base.register_state
class RpropState(NamedTuple):
    """State of :func:`rprop`."""

    t: int            # number of updates applied so far
    step: Any         # per-coordinate step size Δ_t > 0
    prev_grad: Any    # g_t, or 0 where the sign of g flipped at t (so t+1 takes the "= 0" branch)
    prev_update: Any  # the move θ_t − θ_{t−1} (with ``delayed``: the move proposed at t)


@base.rule_factory("rprop", RpropState)
def rprop(lr: float = 0.01, eta_minus: float = 0.5, eta_plus: float = 1.2, *,
          min_step: float = 1e-6, max_step: float = 50.0,
          sign_change: Literal["backtrack", "skip"] = "backtrack", delayed: bool = False,
          weight_decay: float = 0.0, decay: Literal["l2", "decoupled", "fixed"] = "l2",
          maximize: bool = False) -> base.Optimizer:
    r"""Rprop: a per-coordinate step size Δ adapted from the sign of g_{t−1} g_t only.

    .. math::
        \Delta_t = \begin{cases} \min(\eta_+\Delta_{t-1}, \Delta_{max}) & g_{t-1}g_t > 0\\
        \max(\eta_-\Delta_{t-1}, \Delta_{min}) & g_{t-1}g_t < 0\\
        \Delta_{t-1} & g_{t-1}g_t = 0 \end{cases},\qquad
        \theta_t = \theta_{t-1} - \operatorname{sign}(g_t)\,\Delta_t \quad (g_{t-1}g_t \ge 0)

    with Δ_0 = ``lr`` and g_0 = 0. Where the sign flips (g_{t−1}g_t < 0), the stored gradient is
    set to 0 (so the next step takes the "= 0" branch) and ``sign_change`` says how θ moves:
    ``"backtrack"`` (Riedmiller & Braun's weight-backtracking, the paper form) undoes the
    previous move, θ_t = θ_{t−1} − (θ_{t−1} − θ_{t−2}); ``"skip"`` (iRprop⁻ of Igel & Hüsken)
    leaves θ unchanged. The magnitude of g never enters: only its sign (:ref:`rule-rprop`).

    **Conventions.** ``torch.optim.Rprop(lr, etas=(η−, η+), step_sizes=(Δmin, Δmax))`` is
    ``sign_change="skip"``. torch clamps Δ into [Δmin, Δmax] on every branch, the paper only
    when Δ grows or shrinks; the two agree because ``lr`` must lie in [Δmin, Δmax] here.
    ``optax.rprop`` (0.2.8) is ``sign_change="skip", delayed=True``: it moves θ by the step
    proposed at the *previous* update (so its first update is 0), dropped where g_t flips sign
    — a one-step delay reported as a bug in google-deepmind/optax PR #1725.

    Args:
      lr: Δ_0, the initial step size, a constant float in [min_step, max_step].
      eta_minus, eta_plus: shrink and growth factors, 0 < η− < 1 < η+.
      min_step, max_step: bounds Δmin ≤ Δ ≤ Δmax, 0 ≤ Δmin ≤ Δmax.
      sign_change: what θ does where g changes sign (see above).
      delayed: apply the previous update's proposed move (optax's one-step delay); needs
        ``sign_change="skip"``.
      weight_decay, decay, maximize: see :ref:`rule-conventions` (l2 / decoupled / fixed).

    Example (the step depends only on signs: scaling the gradient by 1000 changes nothing):

    >>> import numpy as np, refopt
    >>> opt = refopt.rprop(lr=0.1)
    >>> def run(c):
    ...     p = np.array([1.0, -2.0]); s = opt.init(p)
    ...     for _ in range(20):
    ...         p, s = opt.update(c * p, s, p)
    ...     return p
    >>> print(np.array_equal(run(1.0), run(1000.0)), float(np.max(np.abs(run(1.0)))) < 0.05)
    True True

    References: Riedmiller & Braun, ICNN 1993; Igel & Hüsken, NC 2000. Proof page: :ref:`rule-rprop`.
    """
    if callable(lr):
        raise TypeError("lr must be a constant float for rprop (it is the initial step size Δ_0)")
    eta_minus = base.check_real("eta_minus", eta_minus, low=0.0, high=1.0, low_open=True,
                                high_open=True)
    eta_plus = base.check_real("eta_plus", eta_plus, low=1.0, low_open=True)
    min_step = base.check_real("min_step", min_step, low=0.0)
    max_step = base.check_real("max_step", max_step, low=min_step)
    lr = base.check_real("lr", lr, low=0.0)
    if not min_step <= lr <= max_step:   # Δ_0 inside the bounds (torch would clamp it at t = 2)
        raise ValueError(f"lr must be in [min_step, max_step] = [{min_step}, {max_step}], got {lr!r}")
    base.check_choice("sign_change", sign_change, SIGN_CHANGES)
    base.check_bool("delayed", delayed)
    if delayed and sign_change != "skip":
        raise ValueError("delayed=True needs sign_change='skip' (the delayed form never backtracks)")
    reg = rule.regularisation(weight_decay, decay, maximize)
    lr_fn = base.as_schedule("lr", lr)

    def init(params: Any) -> RpropState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return RpropState(t=0, step=base.full_like(params, lr), prev_grad=zeros, prev_update=zeros)

    def leaf(xp, p, g, step, g_prev, du_prev, *, lr_t):
        agree = g_prev * g
        grow = xp.clip(step * eta_plus, max=max_step)
        shrink = xp.clip(step * eta_minus, min=min_step)
        step = xp.where(agree > 0, grow, xp.where(agree < 0, shrink, step))
        flipped = agree < 0
        zero = xp.zeros_like(g)
        proposal = xp.where(flipped, zero, -xp.sign(g) * step)
        if delayed:
            move = xp.where(flipped, zero, du_prev)
            return p + move, step, xp.where(flipped, zero, g), proposal
        move = xp.where(flipped, -du_prev, proposal) if sign_change == "backtrack" else proposal
        return p + move, step, xp.where(flipped, zero, g), move

    # lr_t (the constant Δ_0) enters only through decoupled weight decay
    kernel = rule.leafwise(leaf, reg, n_out=4, name="rprop")

    def update(grads: Any, state: RpropState, params: Any) -> tuple[Any, RpropState]:
        xp, t, lr_t = rule.begin(grads, state, params, lr_fn)
        params, step, g_prev, du = kernel(xp, (params, grads, state.step, state.prev_grad,
                                               state.prev_update), lr_t=lr_t)
        return params, RpropState(t=t, step=step, prev_grad=g_prev, prev_update=du)

    return base.optimizer(init, update)
