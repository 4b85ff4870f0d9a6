"""Adafactor: a factored (row × column) second moment and relative steps (Shazeer & Stern 2018)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple, get_args

from refopt import base, rule
from refopt import tree as _tree

FactoredAxes = Literal["last_two", "two_largest"]
Eps1Mode = Literal["add_to_square", "clamp_estimate"]


@base.register_state
class AdafactorState(NamedTuple):
    """State of :func:`adafactor`. A factored leaf keeps ``row`` and ``col``; any other leaf keeps
    the full ``v``; the fields a leaf does not use hold a size-0 array."""

    t: int     # number of updates applied so far
    row: Any   # R_t: EMA of mean(g², over the row axis), the leaf's shape less that axis
    col: Any   # C_t: EMA of mean(g², over the column axis), the leaf's shape less that axis
    v: Any     # V_t: EMA of g² for leaves that are not factored

    # shaped per leaf, not like it (base.check_update_args checks one entry per leaf)
    leaf_summaries = ("row", "col", "v")


def factored_axes(shape: tuple[int, ...], axes: FactoredAxes, min_dim: int) -> tuple[int, int] | None:
    """(a, b): R averages g² over axis a, C over axis b; None when the leaf is not factored.

    ``"last_two"``: a = last axis, b = second last. ``"two_largest"``: a = the largest axis,
    b = the second largest (ties keep axis order). Factored only if rank ≥ 2 and both sizes
    are ≥ ``min_dim``.
    """
    if len(shape) < 2:
        return None
    if axes == "last_two":
        a, b = len(shape) - 1, len(shape) - 2
    else:
        order = sorted(range(len(shape)), key=lambda i: shape[i])   # stable
        a, b = order[-1], order[-2]
    return (a, b) if min(shape[a], shape[b]) >= min_dim else None


def _rms(xp, x):
    return float(xp.sqrt(xp.mean(x * x)))


@base.rule_factory("adafactor", AdafactorState)
def adafactor(lr: Any = 1e-2, *, decay_exponent: float = 0.8, beta2: Callable[[int], float] | None = None,
              eps1: float = 1e-30, eps1_mode: Eps1Mode = "add_to_square", eps2: float = 1e-3,
              clip_threshold: float | None = 1.0, relative_step: bool = True,
              parameter_scale: bool = True, factored: FactoredAxes = "last_two",
              min_dim_size_to_factor: int = 1, weight_decay: float = 0.0, decay: rule.Decay = "l2",
              maximize: bool = False) -> base.Optimizer:
    r"""Adafactor (Shazeer & Stern 2018, Algorithms 4 and 5, without momentum).

    With β̂_t = 1 − t^{−c} and, for a factored leaf (a matrix G = g_t over axes (b, a)),

    .. math::
        R_t = \hat\beta_t R_{t-1} + (1-\hat\beta_t)\,\mathrm{mean}_a(G^2 + \epsilon_1),\quad
        C_t = \hat\beta_t C_{t-1} + (1-\hat\beta_t)\,\mathrm{mean}_b(G^2 + \epsilon_1),\quad
        \hat V_t = \frac{R_t C_t^\top}{\mathrm{mean}(R_t)}

    (any other leaf: V̂_t = V_t = β̂_t V_{t−1} + (1−β̂_t)(g² + ε1)), then

    .. math::
        U_t = \frac{g_t}{\sqrt{\hat V_t}},\quad \hat U_t = \frac{U_t}{\max(1, \mathrm{RMS}(U_t)/d)},
        \quad \theta_t = \theta_{t-1} - \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,
        \min(\eta_t, t^{-1/2})\,\hat U_t .

    R Cᵀ/mean(R) is the paper's rank-1 minimiser of the I-divergence to V (proof page).

    **Conventions.** Each is a switch; the defaults are the paper's (Keras's Adafactor follows
    them). ``eps1_mode="clamp_estimate"``: no ε1 in the averages; instead mean(R) ≥ ε1 and
    V̂ ≥ ε1² (``torch.optim.Adafactor``, whose ε1 is the dtype's machine epsilon).
    ``relative_step=False``: the step is η_t, not min(η_t, t^{−1/2}) (``optax.adafactor``).
    ``parameter_scale=False``: no max(ε2, RMS(θ)) factor. ``clip_threshold=None``: no update
    clipping. ``factored="two_largest"`` with ``min_dim_size_to_factor=128`` is optax's choice
    of which leaves are factored and over which axes (torch and keras: every leaf of rank ≥ 2,
    last two axes). ``beta2`` replaces the schedule 1 − t^{−c} (optax evaluates it in float32).
    Weight decay: the shared options; torch's is ``decay="decoupled"`` (with η_t, not the
    relative step), optax's ``weight_decay_rate`` is ``decay="fixed"``; both leave RMS(θ_{t−1})
    taken before the decay, as here.

    Args:
        lr: η_t (with ``relative_step``, the cap on the relative step), float or schedule.
        decay_exponent: c > 0 in β̂_t = 1 − t^{−c}. beta2: an explicit schedule t ↦ β̂_t in [0, 1).
        eps1, eps1_mode: the regulariser of g² and where it acts. eps2: floor of RMS(θ).
        clip_threshold: d > 0, or None. relative_step, parameter_scale: see Conventions.
        factored, min_dim_size_to_factor: which leaves are factored, over which axes.
        weight_decay, decay, maximize: the shared options of :mod:`refopt.rule`.

    Example (a 2×3 leaf keeps 2 + 3 second-moment numbers, not 6; the first step of a leaf with
    RMS(θ) = 1 moves every coordinate by min(η, 1) = 0.01, clipped U being ±1):

    >>> import numpy as np, refopt
    >>> params = {"w": np.ones((2, 3))}
    >>> opt = refopt.adafactor(lr=0.01)
    >>> state = opt.init(params)
    >>> new, state = opt.update({"w": np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])}, state, params)
    >>> state.row["w"].shape, state.col["w"].shape, state.v["w"].shape
    ((2,), (3,), (0,))

    References: Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", ICML 2018 (arXiv:1804.04235). Proof page: :ref:`rule-adafactor`.
    """
    lr_fn = base.as_schedule("lr", lr)
    c_exp = base.check_real("decay_exponent", decay_exponent, low=0.0, low_open=True)
    if beta2 is not None and not callable(beta2):
        raise TypeError(f"beta2 must be None or a callable t -> beta2_t, got {beta2!r}")
    eps1 = base.check_real("eps1", eps1, low=0.0)
    base.check_choice("eps1_mode", eps1_mode, get_args(Eps1Mode))
    eps2 = base.check_real("eps2", eps2, low=0.0)
    if clip_threshold is not None:
        clip_threshold = base.check_real("clip_threshold", clip_threshold, low=0.0, low_open=True)
    base.check_bool("relative_step", relative_step)
    base.check_bool("parameter_scale", parameter_scale)
    base.check_choice("factored", factored, get_args(FactoredAxes))
    min_dim = min_dim_size_to_factor
    min_dim = base.check_int("min_dim_size_to_factor", min_dim, low=1)
    reg = rule.regularisation(weight_decay, decay, maximize)
    sign_only = rule.regularisation(0.0, "l2", reg.maximize)     # decay follows RMS(θ_{t−1})
    decay_only = rule.regularisation(reg.weight_decay, reg.decay, False)

    def beta2_at(t: int) -> float:
        if beta2 is None:
            return 1.0 - t ** (-c_exp)
        return base.check_beta(f"beta2({t})", beta2(t))

    def init(params: Any) -> AdafactorState:
        xp = base.check_init_params(params)

        def leaf(p):
            empty = xp.zeros((0,), dtype=p.dtype)
            ax = factored_axes(tuple(p.shape), factored, min_dim)
            if ax is None:
                return empty, empty, xp.zeros_like(p)
            return xp.zeros_like(xp.mean(p, axis=ax[0])), xp.zeros_like(xp.mean(p, axis=ax[1])), empty

        row, col, v = _tree.map(leaf, params, n_out=3)
        return AdafactorState(t=0, row=row, col=col, v=v)

    def update(grads: Any, state: AdafactorState, params: Any) -> tuple[Any, AdafactorState]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, sign_only)
        base.check_leaf_summaries_like(state, init(params))
        b = beta2_at(t)
        rho = min(lr_t, t ** -0.5) if relative_step else lr_t
        added = eps1 if eps1_mode == "add_to_square" else 0.0

        def leaf(p, g, r, c, v):
            g = rule.effective_grad(decay_only, g, p)
            alpha = max(eps2, _rms(xp, p)) * rho if parameter_scale else rho
            sq = g * g + added
            ax = factored_axes(tuple(p.shape), factored, min_dim)
            if ax is None:
                v = b * v + (1.0 - b) * sq
                v_hat = v
            else:
                a, bx = ax
                r = b * r + (1.0 - b) * xp.mean(sq, axis=a)
                c = b * c + (1.0 - b) * xp.mean(sq, axis=bx)
                r_mean = xp.mean(r, axis=bx - (bx > a), keepdims=True)   # over R's remaining rows
                if eps1_mode == "clamp_estimate":
                    r_mean = xp.clip(r_mean, min=eps1)
                v_hat = xp.expand_dims(r / r_mean, axis=a) * xp.expand_dims(c, axis=bx)
            if eps1_mode == "clamp_estimate":
                v_hat = xp.clip(v_hat, min=eps1 * eps1)
            u = rule.safe_divide(xp, g, xp.sqrt(v_hat))
            if clip_threshold is not None:
                u = u / max(1.0, _rms(xp, u) / clip_threshold)
            p = rule.decayed_param(decay_only, p, lr_t)
            return p - alpha * u, r, c, v

        params, row, col, v = _tree.map(leaf, params, grads, state.row, state.col, state.v, n_out=4)
        return params, AdafactorState(t=t, row=row, col=col, v=v)

    return base.optimizer(init, update)
