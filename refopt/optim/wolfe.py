"""L-BFGS with a strong-Wolfe line search: bracketing, then zoom by safeguarded cubic steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal, get_args

from refopt import base, treemath
from refopt.optim.lbfgs import FirstStepNorm, LBFGSState, lbfgs, max_abs, search_direction
from refopt.optim.zoom import doubling_zoom

LineSearch = Literal["cubic_extrapolation", "doubling"]


def cubic_minimiser(t1: float, f1: float, d1: float, t2: float, f2: float, d2: float,
                    lo: float, hi: float) -> float:
    """Minimiser of the cubic through (t1, f1, slope d1) and (t2, f2, slope d2), clipped to
    [lo, hi]; the midpoint of [lo, hi] when the cubic has no real minimiser
    (Nocedal & Wright eq. 3.59)."""
    a = d1 + d2 - 3.0 * (f1 - f2) / (t1 - t2)
    disc = a * a - d1 * d2
    if disc < 0:
        return (lo + hi) / 2.0
    b = math.sqrt(disc)
    if t1 <= t2:
        t = t2 - (t2 - t1) * ((d2 + b - a) / (d2 - d1 + 2.0 * b))
    else:
        t = t1 - (t1 - t2) * ((d1 + b - a) / (d1 - d2 + 2.0 * b))
    return min(max(t, lo), hi)


def strong_wolfe(phi: Callable[[float], tuple], t: float, f0: float, slope0: float, d_norm: float,
                 *, c1: float, c2: float, tolerance_change: float, max_ls: int) -> tuple:
    """A step t with f(t) ≤ f0 + c1·t·φ'(0) and abs(φ'(t)) ≤ c2·abs(φ'(0)) (strong Wolfe), or the best
    point seen when ``max_ls`` evaluations or the bracket width run out. ``phi(t)`` returns
    (f, g, φ'(t)). Returns (t, f, g). Phase 1 extrapolates by a cubic step in
    [t + 0.01(t − t_prev), 10t] until a bracket is found; phase 2 shrinks it, keeping every
    trial at least 10% of the bracket away from its ends after a step without progress."""
    prev = (0.0, f0, None, slope0)          # (t, f, g, φ') of the previous trial
    cur = (t, *phi(t))
    evals, bracket, done = 0, None, False
    while evals < max_ls:
        tc, fc, _, sc = cur
        if fc > f0 + c1 * tc * slope0 or (evals > 1 and fc >= prev[1]):
            bracket = [prev, cur]
            break
        if abs(sc) <= -c2 * slope0:
            bracket, done = [cur], True
            break
        if sc >= 0:
            bracket = [prev, cur]
            break
        nxt = cubic_minimiser(prev[0], prev[1], prev[3], tc, fc, sc, tc + 0.01 * (tc - prev[0]), tc * 10)
        prev, cur = cur, (nxt, *phi(nxt))
        evals += 1
    if evals == max_ls:
        bracket = [(0.0, f0, None, slope0), cur]
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    stalled = False
    while not done and evals < max_ls:
        (ta, fa, _, sa), (tb, fb, _, sb) = bracket
        if abs(tb - ta) * d_norm < tolerance_change or tb == ta:   # a point: nothing left to zoom
            break
        left, right = min(ta, tb), max(ta, tb)
        trial = cubic_minimiser(ta, fa, sa, tb, fb, sb, left, right)
        margin = 0.1 * (right - left)
        if min(right - trial, trial - left) < margin:   # too close to an end of the bracket
            if stalled or trial >= right or trial <= left:
                trial = right - margin if abs(trial - right) < abs(trial - left) else left + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        point = (trial, *phi(trial))
        evals += 1
        if point[1] > f0 + c1 * trial * slope0 or point[1] >= bracket[low][1]:
            bracket[high] = point
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(point[3]) <= -c2 * slope0:
                done = True
            elif point[3] * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = point
    return bracket[low][0], bracket[low][1], bracket[low][2]


@base.rule_factory("lbfgs_wolfe", LBFGSState)
def lbfgs_wolfe(lr: Any = 1.0, history_size: int = 10, *, c1: float = 1e-4, c2: float = 0.9,
                max_ls: int = 25, first_step_norm: FirstStepNorm = "l1",
                min_curvature: float | None = 1e-10, tolerance_grad: float = 1e-7,
                tolerance_change: float = 1e-9, line_search: LineSearch = "cubic_extrapolation",
                approx_decrease: float | None = None, interval_threshold: float = 1e-5
                ) -> base.Optimizer:
    r"""L-BFGS (:func:`refopt.lbfgs`'s direction d) with a strong-Wolfe line search along d.

    The step t starts at :func:`refopt.lbfgs`'s step size and is accepted when

    .. math:: \ell(\theta + t d) \le \ell(\theta) + c_1 t\,\langle g, d\rangle,\qquad
              \lvert\langle\nabla\ell(\theta + t d), d\rangle\rvert \le c_2\,\lvert\langle g, d\rangle\rvert

    (bracketing, then zoom; Nocedal & Wright Alg. 3.5–3.6). ``line_search`` picks the procedure:
    ``"cubic_extrapolation"`` grows t by cubic extrapolation in [t + 0.01Δt, 10t] and zooms by
    safeguarded two-point cubics (:func:`refopt.optim.wolfe.strong_wolfe`); ``"doubling"``
    searches along η_t·d from t = 1, doubling t, and zooms by three-point cubics, quadratics or
    bisection (:func:`refopt.optim.zoom.doubling_zoom`), where ``approx_decrease`` = δ also accepts the
    approximate Wolfe decrease φ'(t) ≤ (2c₁ − 1)φ'(0) when f(t) ≤ f₀ + δ·abs(f₀) (Hager & Zhang 2006)
    and ``interval_threshold`` ends a zoom whose interval is that short.
    The rule needs function values, so it declares ``extra_args={"objective"}``:
    ``update(None, state, params, objective=f)`` with ``f.value_and_grad(params)``.

    **Conventions.** ``torch.optim.LBFGS(lr, max_iter=1, max_eval=1 + max_ls, history_size=m,
    line_search_fn="strong_wolfe")``. torch's default ``max_eval`` (= ⌊5·max_iter/4⌋) leaves
    ``max_iter=1`` no line-search evaluations, and then it returns t = 0 (no step).
    ``optax.lbfgs()`` (its default zoom line search): ``line_search="doubling"``, ``max_ls=20``,
    ``approx_decrease=1e-6``, with optax's L-BFGS conventions ``first_step_norm="l2"``,
    ``min_curvature=None``, ``tolerance_grad=tolerance_change=0``.

    Example (Hessian I: the first step is cut to t = 1/‖g‖₁; then y = s, so H = I, d is the
    Newton step and t = 1 satisfies both conditions — the second step lands on the minimiser):

    >>> import numpy as np, refopt
    >>> from refopt.problems import Quadratic
    >>> f = Quadratic([1.0, 1.0], seed=0)
    >>> opt = refopt.lbfgs_wolfe(); p = np.array([2.0, -2.0]); s = opt.init(p)
    >>> for _ in range(2):
    ...     p, s = opt.update(None, s, p, objective=f)
    >>> print(bool(np.linalg.norm(f.grad(p)) < 1e-8))
    True

    References: Nocedal & Wright, *Numerical Optimization* §3.5; Hager & Zhang, "Algorithm 851:
    CG_DESCENT", ACM TOMS 32 (2006) (the approximate Wolfe test). Proof page: :ref:`rule-lbfgs`.
    """
    plain = lbfgs(lr, history_size, first_step_norm=first_step_norm, min_curvature=min_curvature,
                  tolerance_grad=tolerance_grad, tolerance_change=tolerance_change)  # validation
    lr_fn = base.as_schedule("lr", lr)
    c1 = base.check_real("c1", c1, low=0.0, high=1.0, low_open=True, high_open=True)
    c2 = base.check_real("c2", c2, low=c1, high=1.0, low_open=True, high_open=True)
    max_ls = base.check_int("max_ls", max_ls, low=1)
    base.check_choice("line_search", line_search, get_args(LineSearch))
    if approx_decrease is not None:
        approx_decrease = base.check_real("approx_decrease", approx_decrease, low=0.0)
    interval_threshold = base.check_real("interval_threshold", interval_threshold, low=0.0)

    def update(grads: Any, state: LBFGSState, params: Any, *, objective: Any = None
               ) -> tuple[Any, LBFGSState]:
        if objective is None:
            raise ValueError("objective is required: the line search evaluates ℓ along d")
        if grads is not None:
            raise ValueError("grads must be None for lbfgs_wolfe (it evaluates the objective)")
        f0, g = objective.value_and_grad(params)
        base.check_update_args(g, state, params)
        t = state.t + 1
        if max_abs(g) <= tolerance_grad:
            return params, state._replace(t=t)
        state, d, step_size = search_direction(state, g, lr_fn(t), first_step_norm, min_curvature,
                                               True)
        slope0 = treemath.vdot(g, d)
        if slope0 > -tolerance_change or step_size == 0.0:   # η_t = 0: the trial point is θ itself
            return params, state._replace(t=t, k=state.k + 1, prev_grad=g,
                                          prev_step=base.zeros_like(params))

        def phi(step: float) -> tuple:
            f, g_t = objective.value_and_grad(treemath.add_scaled(params, step, d))
            return float(f), g_t, treemath.vdot(g_t, d)

        if line_search == "doubling":   # the search runs along η_t·d from t = 1
            d = treemath.scale(step_size, d)
            slope0 = treemath.vdot(g, d)
            step_size, _, _ = doubling_zoom(phi, 1.0, float(f0), g, slope0, c1=c1, c2=c2, max_ls=max_ls,
                                            approx_decrease=approx_decrease,
                                            interval_threshold=interval_threshold)
        else:
            step_size, _, _ = strong_wolfe(phi, step_size, float(f0), slope0, max_abs(d), c1=c1, c2=c2,
                                           tolerance_change=tolerance_change, max_ls=max_ls)
        step = treemath.scale(step_size, d)
        return (treemath.add_scaled(params, step_size, d),
                state._replace(t=t, k=state.k + 1, prev_grad=g, prev_step=step))

    return base.optimizer(plain.init, update, {"objective"})
