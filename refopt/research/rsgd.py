"""R-SGD: reinforced stochastic gradient descent (:ref:`spec-rsgd`; seed 000) — as reconstructed."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, get_args

import numpy as np

from refopt import _xp, base, rule
from refopt import tree as _tree

Mode = Literal["accumulate", "previous"]
Granularity = Literal["coordinate", "array", "global"]
MODES: tuple[str, ...] = get_args(Mode)
GRANULARITIES: tuple[str, ...] = get_args(Granularity)


TimeUnit = Literal["step", "epoch"]
TIME_UNITS: tuple[str, ...] = get_args(TimeUnit)


@base.register_state
class RSGDState(NamedTuple):
    """State of :func:`rsgd`."""

    t: int       # number of updates applied so far
    memory: Any  # h_{t−1} ("accumulate") or g_{t−1} ("previous"); zeros at t = 0


def rsgd_masks(like: Any, *, seed: int, t: int, p: float, granularity: str) -> list:
    """The Bernoulli(p) masks Γ_t of update t, one boolean NumPy array per leaf of ``like``.

    Counter-based: PCG64 seeded with SeedSequence [seed, t, i] for leaf i ("coordinate": one
    uniform per coordinate; "array": one per leaf) or [seed, t] ("global": one for all), and
    Γ = (u < p). So p = 0 gives no reinforcement and p = 1 always reinforces.
    """
    leaves = _tree.leaves(like)
    if granularity == "global":
        on = bool(np.random.default_rng([seed, t]).random() < p)
        return [np.full(tuple(leaf.shape), on) for leaf in leaves]
    masks = []
    for i, leaf in enumerate(leaves):
        rng = np.random.default_rng([seed, t, i])
        if granularity == "array":
            masks.append(np.full(tuple(leaf.shape), bool(rng.random() < p)))
        else:
            masks.append(rng.random(tuple(leaf.shape)) < p)
    return masks


def reinforcement_schedule(*, gamma: float = 0.99, p0: float = 1.0, p_max: float = 0.9,
                           time_unit: TimeUnit = "step",
                           steps_per_epoch: int | None = None) -> Callable[[int], float]:
    r"""p_t = min(p_max, 1 − p0 γ^τ(t)), τ(t) = t per step or ⌊(t−1)/S⌋ + 1 per epoch of S steps.

    ``p_max < 1`` keeps the expected dynamics (heavy ball with β_t = p_t) convergent on a
    quadratic for ηλ < 2(1 + p_max) once p_t has saturated (proof page :ref:`rule-rsgd`, theorem
    :prf:ref:`thm-rsgd-stability`); ``p_max = 1`` is the unsaturated schedule, whose expected
    iteration matrices have determinants Π p_t ↛ 0, so it cannot converge.
    """
    gamma = base.check_real("gamma", gamma, low=0.0, high=1.0, low_open=True, high_open=True)
    p0 = base.check_real("p0", p0, low=0.0, high=1.0)
    p_max = base.check_real("p_max", p_max, low=0.0, high=1.0)
    base.check_choice("time_unit", time_unit, TIME_UNITS)
    if time_unit == "epoch":
        if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, numbers.Integral) \
                or steps_per_epoch < 1:
            raise ValueError("steps_per_epoch must be an integer >= 1 when time_unit='epoch', "
                             f"got {steps_per_epoch!r}")
    elif steps_per_epoch is not None:
        raise ValueError("steps_per_epoch is only used with time_unit='epoch', "
                         f"got {steps_per_epoch!r} with time_unit='step'")

    def p_of(t: int) -> float:
        tau = t if time_unit == "step" else (t - 1) // steps_per_epoch + 1
        return min(p_max, 1.0 - p0 * gamma ** tau)
    return p_of


@base.rule_factory("rsgd", RSGDState)
def rsgd(lr: Any = 0.01, *, gamma: float = 0.99, p0: float = 1.0, p_max: float = 0.9,
         time_unit: TimeUnit = "step", steps_per_epoch: int | None = None,
         schedule: Callable[[int], float] | None = None, mode: Mode = "accumulate",
         granularity: Granularity = "coordinate", seed: int = 0, weight_decay: float = 0.0,
         decay: rule.Decay = "l2", maximize: bool = False) -> base.Optimizer:
    r"""R-SGD, **as reconstructed** (only the abstract of Huang & Toyoizumi 2017 was readable).

    .. math::
        \Gamma_t \sim \mathrm{Bernoulli}(p_t),\quad
        h_t = g_t + \Gamma_t \odot h_{t-1}\ (h_0 = 0),\quad
        \theta_t = \theta_{t-1} - \eta_t h_t,\quad p_t = \min(p_{\max}, 1 - p_0\gamma^{\tau(t)})

    with τ(t) = t (``time_unit="step"``) or the epoch index ⌊(t−1)/S⌋ + 1 (``"epoch"``, S =
    ``steps_per_epoch``). ``mode="previous"`` uses h_t = g_t + Γ_t ⊙ g_{t−1} instead. The
    abstract says previous gradients are "added stochastically with a probability that
    increases with learning time" and that the method needs one buffer; the recursion, the
    schedule's form, p0 and γ are our reconstruction (:ref:`spec-rsgd`).

    **Conventions.** The abstract says previous gradients are "added stochastically with a
    probability that increases with learning time" and that one buffer suffices; the
    recursion, the schedule's form, its time unit, p0, γ and the saturation p_max are our
    reconstruction. In expectation over Γ_t, E[h_t | past] = g_t + p_t h_{t−1}: heavy ball with
    β_t = p_t. Unsaturated (p_max = 1), p_t → 1 and the expected dynamics cannot converge
    (their iteration matrices have determinant Π p_t, bounded away from 0); saturated at
    p_max < 1 it is heavy ball with β = p_max, convergent on a quadratic for ηλ < 2(1 + p_max)
    (proof page :ref:`rule-rsgd`). Defaults: p_max = 0.9 (the common heavy-ball β, which keeps every
    step size that is stable for SGD, ηλ < 2, stable here), γ = 0.99 per step (p_t saturates
    after ⌈ln 10/−ln 0.99⌉ = 230 steps, well inside one run on the study tasks).

    Args:
      gamma: γ ∈ (0, 1). p0: p0 ∈ [0, 1]. p_max: the saturation p_max ∈ [0, 1].
      time_unit: what t counts in γ^t — "step" (default) or "epoch" (needs ``steps_per_epoch``).
      schedule: any callable t -> p ∈ [0, 1], replacing the built-in schedule (γ, p0, p_max and
        the time unit are then unused).
      granularity: one Bernoulli draw per coordinate (default), per array, or one for all.
      seed: the masks are counter-based from (seed, t, leaf index), identical on every backend.

    Example (β = p_max = 0.9 after 230 steps: heavy ball, so the iterate converges):

    >>> import numpy as np, refopt
    >>> opt = refopt.rsgd(lr=0.05, seed=1)
    >>> params = np.array([1.0, -2.0]); state = opt.init(params)
    >>> for _ in range(600):
    ...     params, state = opt.update(params, state, params)
    >>> print(float(np.max(np.abs(params))) < 1e-3)
    True

    References: Huang & Toyoizumi, arXiv:1701.07974 (abstract). Proof page: :ref:`rule-rsgd`.
    """
    lr_fn = base.as_schedule("lr", lr)
    if schedule is None:
        p_of = reinforcement_schedule(gamma=gamma, p0=p0, p_max=p_max, time_unit=time_unit,
                                      steps_per_epoch=steps_per_epoch)
    else:
        if not callable(schedule):
            raise TypeError(f"schedule must be a callable t -> p, got {schedule!r}")

        def p_of(t: int) -> float:
            return base.check_real(f"schedule({t})", schedule(t), low=0.0, high=1.0)
    base.check_choice("mode", mode, MODES)
    base.check_choice("granularity", granularity, GRANULARITIES)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    reg = rule.regularisation(weight_decay, decay, maximize)

    def init(params: Any) -> RSGDState:
        base.check_init_params(params)
        return RSGDState(t=0, memory=base.zeros_like(params))

    def update(grads: Any, state: RSGDState, params: Any) -> tuple[Any, RSGDState]:
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, reg)
        masks = rsgd_masks(params, seed=seed, t=t, p=p_of(t), granularity=granularity)
        treedef = _tree.structure(params)
        mask_tree = _tree.unflatten(treedef, [
            xp.asarray(mk, device=_xp.device(leaf)) for mk, leaf in zip(masks, _tree.leaves(params))])

        def leaf(p, g, mem, mk):
            h = xp.where(mk, g + mem, g)   # where, not g + Γ·mem: p ≡ 0 is then SGD bit for bit
            return p - lr_t * h, (h if mode == "accumulate" else g)

        params, memory = _tree.map(leaf, params, grads, state.memory, mask_tree, n_out=2)
        return params, RSGDState(t=t, memory=memory)

    return base.Optimizer(init, update)
