"""Runge–Kutta and linear-multistep integrators of the gradient flow as optimizers (:ref:`spec-numerical`).

Training as the gradient flow θ'(τ) = F(θ) = −∇ℓ(θ): a step of size h = η is one integrator
step. Gradient descent is explicit Euler. Weight decay and ``maximize`` act as for every rule:
``maximize`` and L2 decay change F (F = ∇ℓ, resp. F = −∇ℓ − λθ at each evaluation point),
decoupled and fixed decay shrink θ before the step.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal, NamedTuple, get_args

from refopt import _xp, base, rule
from refopt import tree as _tree
from refopt.elementwise import Kernel
from refopt.ode import multistep as _ms
from refopt.ode import tableau as _tab

# the built-in methods by name; tests/test_ode.py checks these lists against TABLEAUX / METHODS
TableauName = Literal["euler", "heun", "midpoint", "ralston", "rk4"]
MultistepName = Literal["ab2", "four_instant", "leapfrog"]
BOOTSTRAPS: tuple[str, ...] = get_args(TableauName)


def _first_gradient(grads: Any, params: Any, grad_fn: Callable[[Any], Any] | None) -> Any:
    """∇ℓ(θ_{t−1}): the caller's ``grads``, or ``grad_fn(params)`` when grads is None."""
    if grads is not None:
        return grads
    if grad_fn is None:
        raise ValueError("grad_fn is required when grads is None")
    return grad_fn(params)


@base.register_state
class RKState(NamedTuple):
    """State of a Runge–Kutta rule."""

    t: int  # number of updates applied so far


@base.rule_factory("runge_kutta", RKState)
def runge_kutta(tab: _tab.ButcherTableau | TableauName, lr: Any = 0.01, *,
                weight_decay: float = 0.0, decay: rule.Decay = "l2", maximize: bool = False,
                allow_unstable: bool = False
                ) -> base.Optimizer:
    r"""An explicit Runge–Kutta step of the gradient flow, from a Butcher tableau.

    .. math::
        k_i = -\nabla\ell\Big(\theta + \eta_t \sum_{j<i} a_{ij} k_j\Big),\qquad
        \theta_t = \theta_{t-1} + \eta_t \sum_i b_i k_i

    ``update(grads, state, params, grad_fn=f)``: ``grads`` is ∇ℓ(θ_{t−1}) (the first stage) or
    ``None`` (then ``f`` computes it too); every later stage calls ``f``. Pass an ``f`` that uses
    the same mini-batch as ``grads`` for the usual "one batch per step" reading, or fresh batches
    (the training helper's ``oracle_batch``). Euler (one stage) needs no ``grad_fn`` and is
    gradient descent bit for bit.

    Tableaux: ``"euler"``, ``"heun"``, ``"midpoint"``, ``"ralston"``, ``"rk4"``
    (``refopt.ode.tableau.TABLEAUX``) or any explicit :class:`~refopt.ode.ButcherTableau`.
    Order, error constant and stability interval: ``refopt.ode.tableau``. A tableau of order 0
    (Σb ≠ 1: not consistent, it does not follow the flow) is refused unless
    ``allow_unstable=True``; an implicit tableau (A not strictly lower triangular) always is.

    Example (Heun on ½‖θ‖²: each step multiplies θ by R(−η) = 1 − η + η²/2):

    >>> import numpy as np, refopt
    >>> opt = refopt.ode.runge_kutta("heun", lr=0.5)
    >>> params, state = opt.update(None, opt.init(np.array([1.0])), np.array([1.0]), grad_fn=lambda p: p)
    >>> print(params)
    [0.625]

    References: Butcher, *Numerical Methods for ODEs* (2016); seed 001. Proof page: :ref:`rule-runge-kutta`.
    """
    tab = _tab.TABLEAUX[base.check_choice("tableau", tab, sorted(_tab.TABLEAUX))] \
        if isinstance(tab, str) else tab
    if not isinstance(tab, _tab.ButcherTableau):
        raise TypeError(f"tableau must be a name or a ButcherTableau, got {type(tab).__name__}")
    _tab.check_explicit(tab)
    if not base.check_bool("allow_unstable", allow_unstable) and _tab.order(tab) < 1:
        raise ValueError(f"tableau {tab.name!r} is not consistent (order 0: Σb = "
                         f"{sum(tab.b)} ≠ 1), so it does not integrate the gradient flow; "
                         "pass allow_unstable=True to run it anyway")
    lr_fn = base.as_schedule("lr", lr)
    reg = rule.regularisation(weight_decay, decay, maximize)
    A = [[float(x) for x in row] for row in tab.A]
    b = [float(x) for x in tab.b]

    def init(params: Any) -> RKState:
        base.check_init_params(params)
        return RKState(t=0)

    # The element-wise work between two gradient evaluations, per leaf: k_i = F(point_i), then
    # the next stage point θ + η Σ_{j≤i} a_{i+1,j} k_j (θ_t = θ + η Σ_j b_j k_j after the last
    # stage). θ is the decayed θ_{t−1}; ``used`` lists the j whose coefficient c_j = η·a or η·b
    # is not 0 (treemath.lincomb leaves zero terms out; which are zero depends on η_t, so it
    # selects the kernel, as does ``last``).
    def stage(xp, p, g, point, *ks, lr_t, used, last, **cs):
        ks = ks + (-rule.effective_grad(reg, g, point),)
        p = rule.decayed_param(reg, p, lr_t)
        for j in used:   # added left to right, as treemath.lincomb adds them
            p = p + cs[f"c{j}"] * ks[j]
        return p if last else (ks[-1], p)

    kernels: dict[tuple, Kernel] = {}

    def stage_kernel(i: int, used: tuple[int, ...]) -> Kernel:
        last = i == tab.stages - 1
        if (i, used) not in kernels:
            kernels[i, used] = Kernel(partial(stage, used=used, last=last), 1 if last else 2,
                                      f"runge_kutta_{tab.name}")
        return kernels[i, used]

    def update(grads: Any, state: RKState, params: Any, *,
               grad_fn: Callable[[Any], Any] | None = None) -> tuple[Any, RKState]:
        grads = _first_gradient(grads, params, grad_fn)
        if tab.stages > 1 and grad_fn is None:
            raise ValueError(f"grad_fn is required: {tab.name} evaluates the gradient at "
                             f"{tab.stages - 1} further stage point(s)")
        xp, t, h = rule.begin(grads, state, params, lr_fn)
        ks: list[Any] = []
        g, point = grads, params   # stage 1 is at θ_{t−1} itself (before decoupled decay)
        for i in range(tab.stages):
            row = A[i + 1] if i + 1 < tab.stages else b
            coef = [h * row[j] for j in range(i + 1)]
            used = tuple(j for j, c in enumerate(coef) if c != 0.0)
            out = stage_kernel(i, used)(xp, (params, g, point, *ks), lr_t=h,
                                        **{f"c{j}": coef[j] for j in used})
            if i + 1 == tab.stages:
                break
            k, point = out
            ks.append(k)
            g = grad_fn(point)
            base.check_update_args(g, state, point)
        return out[0], RKState(t=t)

    return base.optimizer(init, update, {"grad_fn"} if tab.stages > 1 else frozenset())


@base.register_state
class MultistepState(NamedTuple):
    """State of a linear multistep rule: the last s−1 iterates and their F values.

    The tuples always have s−1 slots (a fixed structure from ``init`` on); during start-up the
    first ``s − 1 − filled`` slots are zero placeholders.
    """

    t: int              # number of updates applied so far
    filled: int         # how many history slots hold real iterates (s − 1 once started)
    past_params: tuple  # (θ_{k−s+1}, …, θ_{k−1}), oldest first
    past_forces: tuple  # F at those points, same order


BOOTSTRAPS = tuple(sorted(_tab.TABLEAUX))


@base.rule_factory("linear_multistep", MultistepState)
def linear_multistep(method: _ms.Multistep | MultistepName, lr: float = 0.01, *,
                     bootstrap: TableauName = "euler",
                     weight_decay: float = 0.0, decay: rule.Decay = "l2",
                     maximize: bool = False, allow_unstable: bool = False) -> base.Optimizer:
    r"""An explicit linear multistep step of the gradient flow.

    .. math:: \theta_{k+1} = \sum_j a_j \theta_{k-j} + h \sum_j b_j F(\theta_{k-j}),\quad F = -\nabla\ell

    The first s−1 updates, before enough history exists, are steps of the one-step
    ``bootstrap`` method (a Runge–Kutta tableau name; ``"euler"`` by default, which needs no
    ``grad_fn``; a multi-stage bootstrap needs ``grad_fn`` during start-up). To start from
    exact values instead, pass them to ``init(params, past=[θ_{−s+1}, …, θ_{−1}],
    grad_fn=f)``.

    ``lr`` must be a constant: fixed coefficients a_j, b_j assume a uniform step.

    Methods: ``"ab2"`` (Adams–Bashforth 2), ``"four_instant"`` (seed 001's one-step-ahead
    4-instant formula, θ_{k+1} = 1.5θ_k − θ_{k−1} + 0.5θ_{k−2} + hF(θ_k)), ``"leapfrog"``
    (θ_{k+1} = θ_{k−1} + 2hF(θ_k): order 2 and only *weakly* zero-stable — ρ has the root −1 on
    the unit circle — so on a gradient flow its parasitic root grows for every h > 0; shipped as
    the documented negative control), or any :class:`~refopt.ode.Multistep`.

    A method that is not consistent, not zero-stable, or only weakly zero-stable (a root of ρ
    other than 1 on the unit circle — leapfrog) is refused with its analysis in the message
    unless ``allow_unstable=True``; ``init(past=...)`` checks each past iterate against params.

    Example (AB2 on ½θ² with an Euler start):

    >>> import numpy as np, refopt
    >>> opt = refopt.ode.linear_multistep("ab2", lr=0.1)
    >>> p = np.array([1.0]); s = opt.init(p)
    >>> for _ in range(50):
    ...     p, s = opt.update(p, s, p)
    >>> print(float(p[0]) < 0.01)
    True

    References: Hairer, Nørsett, Wanner, *Solving ODEs I*, §III; seed 001. Proof page:
    :ref:`rule-linear-multistep`.
    """
    m = _ms.METHODS[base.check_choice("method", method, sorted(_ms.METHODS))] \
        if isinstance(method, str) else method
    if not isinstance(m, _ms.Multistep):
        raise TypeError(f"method must be a name or a Multistep, got {type(method).__name__}")
    problem = _ms.instability(m)
    if problem and not base.check_bool("allow_unstable", allow_unstable):
        raise ValueError(f"method {m.name!r} {problem}; pass allow_unstable=True to run it anyway")
    if callable(lr):
        raise TypeError("lr must be a constant float for a linear multistep method "
                        "(its coefficients assume a uniform step)")
    h = base.check_real("lr", lr, low=0.0)
    base.check_choice("bootstrap", bootstrap, BOOTSTRAPS)
    starter = runge_kutta(bootstrap, h, weight_decay=weight_decay, decay=decay, maximize=maximize)
    reg = rule.regularisation(weight_decay, decay, maximize)
    s = m.steps
    a = [float(x) for x in m.a]
    bcoef = [float(x) for x in m.b]

    def force_leaf(xp, p, g):
        return -rule.effective_grad(reg, g, p)

    # per leaf, past = (θ_{k−1}, …, θ_{k−s+1}, F(θ_{k−1}), …, F(θ_{k−s+1})), newest first
    def step(xp, p, g, *past):
        f_now = force_leaf(xp, p, g)
        thetas = [rule.decayed_param(reg, p, h)] + list(past[:s - 1])   # θ_k, θ_{k−1}, …
        forces = [f_now] + list(past[s - 1:])
        new = xp.zeros_like(p)
        for c, y in [(a[j], thetas[j]) for j in range(s)] + [(h * bcoef[j], forces[j]) for j in range(s)]:
            if c != 0.0:   # left out, and the rest added left to right, as treemath.lincomb does
                new = new + c * y
        return new, f_now

    force_kernel = Kernel(force_leaf, 1, f"multistep_{m.name}_force")
    step_kernel = Kernel(step, 2, f"multistep_{m.name}")

    def force(xp: Any, g: Any, p: Any) -> Any:
        return force_kernel(xp, (p, g))[0]

    def init(params: Any, *, past: list | None = None,
             grad_fn: Callable[[Any], Any] | None = None) -> MultistepState:
        base.check_init_params(params)
        if past is None:
            zeros = tuple(base.zeros_like(params) for _ in range(s - 1))
            return MultistepState(t=0, filled=0, past_params=zeros, past_forces=zeros)
        past = list(past)
        if len(past) != s - 1:
            raise ValueError(f"past must hold {s - 1} earlier iterates for {m.name}, got {len(past)}")
        if grad_fn is None:
            raise ValueError("grad_fn is required with past= (F is needed at the past iterates)")
        for i, p in enumerate(past):
            _tree.assert_same_structure(("params", f"past[{i}]"), (params, p))
            base.check_leafwise_compatible("params", params, f"past[{i}]", p)
        return MultistepState(t=0, filled=s - 1, past_params=tuple(past),
                              past_forces=tuple(force(_xp.namespace(p), grad_fn(p), p) for p in past))

    def update(grads: Any, state: MultistepState, params: Any, *,
               grad_fn: Callable[[Any], Any] | None = None) -> tuple[Any, MultistepState]:
        grads = _first_gradient(grads, params, grad_fn)
        xp = base.check_update_args(grads, state, params)
        if len(state.past_params) != s - 1 or len(state.past_forces) != s - 1:
            raise ValueError(f"state holds {len(state.past_params)} past iterates, {m.name} needs {s - 1}")
        if state.filled < s - 1:  # start-up: one bootstrap step
            f_now = force(xp, grads, params)
            new, _ = starter.update(grads, RKState(t=state.t), params, grad_fn=grad_fn)
            filled = state.filled + 1
        else:
            new, f_now = step_kernel(xp, (params, grads, *reversed(state.past_params),
                                          *reversed(state.past_forces)))
            filled = state.filled
        # shift the history window: drop the oldest slot, append (θ_k, F(θ_k))
        past_p = (state.past_params + (params,))[1:]
        past_f = (state.past_forces + (f_now,))[1:]
        return new, MultistepState(t=state.t + 1, filled=filled, past_params=past_p,
                                   past_forces=past_f)

    # a multi-stage bootstrap evaluates the gradient at its stage points during start-up
    return base.optimizer(init, update, starter.extra_args)

