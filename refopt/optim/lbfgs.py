"""L-BFGS with a fixed step size: the two-loop recursion (Nocedal 1980; Liu & Nocedal 1989)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, get_args

from refopt import _xp, base, treemath
from refopt import tree as _tree

FirstStepNorm = Literal["l1", "l2"]


@base.register_state
class LBFGSState(NamedTuple):
    """State of :func:`lbfgs`."""

    t: int            # number of updates applied so far
    k: int            # L-BFGS iterations taken (updates that were not stopped by tolerance_grad)
    prev_grad: Any    # g_{k−1}
    prev_step: Any    # s_{k−1} = θ_k − θ_{k−1} (0 if no step was taken)
    s: tuple          # (s_1, ..., s_m), oldest first; slots not yet filled are 0 with ρ = 0
    y: tuple          # (y_1, ..., y_m), the matching gradient differences
    rho: tuple        # (ρ_1, ..., ρ_m), ρ_i = 1/⟨s_i, y_i⟩; a pair with ρ = 0 changes nothing
    gamma: float      # γ: the initial inverse Hessian is γI


def two_loop(g: Any, pairs: tuple, gamma: float) -> Any:
    r"""H g by the two-loop recursion, H the L-BFGS inverse Hessian of ``pairs`` and γI.

    Newest to oldest: α_i = ρ_i⟨s_i, q⟩, q ← q − α_i y_i; then r = γq; oldest to newest:
    β_i = ρ_i⟨y_i, r⟩, r ← r + (α_i − β_i) s_i (proof page ``rule-lbfgs``).
    """
    q, alphas = g, []
    for s, y, rho in reversed(pairs):
        alpha = treemath.vdot(s, q) * rho
        q = treemath.add_scaled(q, -alpha, y)
        alphas.append(alpha)
    r = treemath.scale(gamma, q)
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        beta = treemath.vdot(y, r) * rho
        r = treemath.add_scaled(r, alpha - beta, s)
    return r


def remember(state: Any, g: Any, min_curvature: float | None, scale_init: bool,
             min_curvature_ratio: float | None = None) -> Any:
    """The memory after seeing g_k: push (s, y, 1/⟨s,y⟩), dropping the oldest, when ⟨s,y⟩
    passes the curvature tests (⟨s,y⟩ > min_curvature; with a ratio c also ⟨s,y⟩ ≥ c‖s‖²);
    γ from the pushed pair."""
    y = treemath.add_scaled(g, -1.0, state.prev_grad)
    s = state.prev_step
    ys = treemath.vdot(y, s)
    if min_curvature is not None and not ys > min_curvature:
        return state
    # the cautious test: a pair whose secant curvature ⟨s,y⟩/‖s‖² is below c would give H an
    # eigenvalue of order ‖s‖²/⟨s,y⟩ > 1/c, and a fixed step has nothing else to stop it
    if min_curvature_ratio is not None and not ys >= min_curvature_ratio * treemath.sum_sq(s):
        return state
    yy = treemath.sum_sq(y)
    gamma = (ys / yy if yy > 0.0 else 1.0) if scale_init else 1.0
    return state._replace(s=state.s[1:] + (s,), y=state.y[1:] + (y,),
                          rho=state.rho[1:] + (1.0 / ys if ys != 0.0 else 0.0,), gamma=gamma)


def search_direction(state: LBFGSState, grads: Any, lr_t: float, p_norm: str,
                     min_curvature: float | None, scale_init: bool,
                     min_curvature_ratio: float | None = None) -> tuple[LBFGSState, Any, float]:
    """(state with the new pair, d_k = −H_k g_k, the initial step size) for iteration k."""
    if state.k == 0:     # d = −g (the memory is empty: H = I)
        size = sum_abs(grads) if p_norm == "l1" else treemath.norm(grads)
        step_size = lr_t * min(1.0, 1.0 / size)
    else:
        state = remember(state, grads, min_curvature, scale_init, min_curvature_ratio)
        step_size = lr_t
    d = treemath.scale(-1.0, two_loop(grads, tuple(zip(state.s, state.y, state.rho)), state.gamma))
    return state, d, step_size


@base.rule_factory("lbfgs", LBFGSState)
def lbfgs(lr: Any = 1.0, history_size: int = 10, *, first_step_norm: FirstStepNorm = "l1",
          min_curvature: float | None = 1e-10, scale_init: bool = True,
          tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
          min_curvature_ratio: float | None = None) -> base.Optimizer:
    r"""L-BFGS with step size η: θ_k = θ_{k−1} + η d_k, d_k = −H_k g_k by the two-loop recursion.

    .. math::
        s_{k-1} = \theta_k - \theta_{k-1},\quad y_{k-1} = g_k - g_{k-1},\quad
        \rho = 1/\langle s, y\rangle,\quad H^{(0)}_k = \gamma_k I,\
        \gamma_k = \frac{\langle s, y\rangle}{\langle y, y\rangle}\ (\text{newest stored pair})

    H_k is the BFGS inverse update applied to γ_kI with the last m = ``history_size`` pairs; it
    satisfies the secant condition H_k y_{k−1} = s_{k−1} (proof page). A pair is stored only
    when ⟨s, y⟩ > ``min_curvature`` (``None``: always, with ρ = 0 when ⟨s, y⟩ = 0) and, with
    ``min_curvature_ratio`` = c, when ⟨s, y⟩ ≥ c‖s‖² (the cautious test; with ‖y‖ ≤ L‖s‖ it
    bounds H above and below, lemma ``lem-lbfgs-cautious`` on the proof page). The first
    step is d = −g with size η·min(1, 1/‖g‖_p), p given by ``first_step_norm``.
    No step is taken when max|g_i| ≤ ``tolerance_grad`` (nothing changes but t) or when
    ⟨g, d⟩ > −``tolerance_change`` (d is not a descent direction). For a line search see
    :func:`refopt.lbfgs_wolfe`.

    **Conventions.** ``torch.optim.LBFGS(lr, max_iter=1, history_size=m)`` (one iteration per
    ``step``; its defaults are ``first_step_norm="l1"``, ``min_curvature=1e-10``). optax's
    ``lbfgs(η, memory_size=m, linesearch=None)``: ``first_step_norm="l2"``,
    ``min_curvature=None``, ``tolerance_grad=tolerance_change=0``. Neither has the cautious test:
    ``min_curvature_ratio=None`` (the default) is both libraries' behaviour.

    Example (the secant condition: with one stored pair (s, y), H y = s exactly):

    >>> import numpy as np
    >>> from refopt.optim.lbfgs import two_loop
    >>> s, y = np.array([1.0, 0.0]), np.array([2.0, 1.0])
    >>> print(two_loop(y, ((s, y, 1.0 / (s @ y)),), gamma=(s @ y) / (y @ y)))
    [1. 0.]

    References: Nocedal, Math. Comp. 35 (1980); Liu & Nocedal, Math. Prog. 45 (1989); Nocedal
    & Wright, *Numerical Optimization*, Alg. 7.4; the cautious test: Li & Fukushima, SIAM J.
    Optim. 11 (2001). Proof page: :ref:`rule-lbfgs`.
    """
    lr_fn = base.as_schedule("lr", lr)
    m = base.check_real("history_size", history_size, low=1)
    if isinstance(history_size, bool) or int(m) != m:
        raise ValueError(f"history_size must be an integer >= 1, got {history_size!r}")
    m = int(m)
    p_norm = base.check_choice("first_step_norm", first_step_norm, get_args(FirstStepNorm))
    if min_curvature is not None:
        min_curvature = base.check_real("min_curvature", min_curvature, low=0.0)
    scale_init = base.check_bool("scale_init", scale_init)
    tol_grad = base.check_real("tolerance_grad", tolerance_grad, low=0.0)
    tol_change = base.check_real("tolerance_change", tolerance_change, low=0.0)
    if min_curvature_ratio is not None:
        min_curvature_ratio = base.check_real("min_curvature_ratio", min_curvature_ratio, low=0.0)

    def init(params: Any) -> LBFGSState:
        base.check_init_params(params)
        zeros = base.zeros_like(params)
        return LBFGSState(t=0, k=0, prev_grad=zeros, prev_step=zeros, s=(zeros,) * m,
                          y=(zeros,) * m, rho=(0.0,) * m, gamma=1.0)

    def update(grads: Any, state: LBFGSState, params: Any) -> tuple[Any, LBFGSState]:
        base.check_update_args(grads, state, params)
        t = state.t + 1
        lr_t = lr_fn(t)
        if max_abs(grads) <= tol_grad:
            return params, state._replace(t=t)
        state, d, step_size = search_direction(state, grads, lr_t, p_norm, min_curvature, scale_init,
                                               min_curvature_ratio)
        if treemath.vdot(grads, d) > -tol_change:
            step = base.zeros_like(params)
        else:
            step = treemath.scale(step_size, d)
            params = _tree.map(lambda p, s: p + s, params, step)
        return params, state._replace(t=t, k=state.k + 1, prev_grad=grads, prev_step=step)

    return base.optimizer(init, update)


def max_abs(tree: Any) -> float:
    """max_i |x_i| over every leaf."""
    return max((float(_xp.namespace(x).max(_xp.namespace(x).abs(x))) for x in _tree.leaves(tree)
                if x.size), default=0.0)


def sum_abs(tree: Any) -> float:
    """‖x‖₁ over every leaf."""
    return sum(float(_xp.namespace(x).sum(_xp.namespace(x).abs(x))) for x in _tree.leaves(tree))
