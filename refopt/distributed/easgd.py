"""Elastic Averaging SGD and EAMSGD (Zhang, Choromanska, LeCun 2015)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from refopt import base, treemath
from refopt.distributed import _common
from refopt.distributed.algorithm import Algorithm
from refopt.optim.sgd import sgd


class EASGDWorker(NamedTuple):
    """Worker of :func:`easgd` / :func:`eamsgd`."""

    x: Any            # x^i, the worker's own variable
    rule_state: Any   # its local rule's state (EAMSGD: the momentum v^i)
    elastic: Any      # α(x^i − x̃) from its last read, not yet sent (None: nothing pending)
    pull: Any         # sync mode: the elastic term still to subtract after the local step


class EASGD(Algorithm):
    name = "easgd"

    def __init__(self, local, rule_name, alpha, tau, mode):
        self.local, self.rule_name, self.alpha, self.tau, self.mode = local, rule_name, alpha, tau, mode
        self.synchronous = mode == "sync"

    def config(self) -> dict:
        return {"local": self.rule_name, "alpha": self.alpha, "tau": self.tau, "mode": self.mode}

    def plan(self, step):
        talk = step % self.tau == 0      # communicate every τ local steps, starting at step 0
        return talk, talk

    def init_server(self, params):
        return params                      # x̃, the center

    def center(self, server):
        return server

    def init_worker(self, params, worker):
        return EASGDWorker(params, self.local.init(params), None, None)

    def read(self, w, center):
        elastic = treemath.scale(self.alpha, treemath.add_scaled(w.x, -1.0, center))
        if self.mode == "async":           # Algorithm 1: pull first, the gradient at the new x^i
            return EASGDWorker(treemath.add_scaled(w.x, -1.0, elastic), w.rule_state, elastic, None)
        return w._replace(elastic=elastic, pull=elastic)   # Eq. (5): gradient at x^i_t

    def compute(self, w, grads):
        x, state = self.local.update(grads, w.rule_state, w.x)
        if w.pull is not None:
            x = treemath.add_scaled(x, -1.0, w.pull)
        return EASGDWorker(x, state, w.elastic, None)

    def message(self, w, block):
        return w.elastic, w._replace(elastic=None)

    def apply(self, center, messages):
        # x̃ ← x̃ + Σ_i α(x^i − x̃): one term (async) or all N in worker order (sync, Eq. 6)
        terms = [m for _, _, m in sorted(messages, key=lambda e: e[0])]
        return treemath.add_scaled(center, 1.0, _common.tree_sum(terms))


def easgd(local: base.Optimizer | None = None, *, lr: float = 0.01, alpha: float = 0.1, tau: int = 1,
          mode: Literal["sync", "async"] = "sync") -> EASGD:
    r"""Elastic Averaging SGD: workers pulled towards a center x̃ that they pull in turn.

    Synchronous (the paper's Eqs. 5–6, every τ steps; N workers, β = Nα):

    .. math::
        x^i_{t+1} = \mathrm{local}(x^i_t, g^i_t(x^i_t)) - \alpha (x^i_t - \tilde x_t),\qquad
        \tilde x_{t+1} = \tilde x_t + \sum_{i=1}^N \alpha (x^i_t - \tilde x_t)

    Asynchronous (Algorithm 1): worker i reads x̃, sets e = α(x^i − x̃), x^i ← x^i − e, sends e
    (x̃ ← x̃ + e), then takes its local step at the new x^i. With α = 0 the workers are
    independent serial runs of ``local``; with ``local = refopt.sgd(η)`` the sync form is the
    paper's, where α = ηρ.

    **Conventions.** Communication at local steps 0, τ, 2τ, …; the center update sums the
    elastic terms in worker order.

    Args:
      local: each worker's refopt rule (default ``refopt.sgd(lr)``). lr: η of the default rule.
      alpha: α in [0, 1]. tau: τ, an integer >= 1. mode: ``"sync"`` or ``"async"``.

    Example (with α = 0 the center never moves):

    >>> import numpy as np, refopt.distributed as rd
    >>> from refopt.problems import LeastSquares
    >>> X = np.arange(12.0).reshape(6, 2) / 10; problem = LeastSquares(X, X @ np.array([1.0, -1.0]))
    >>> alg = rd.easgd(lr=0.1, alpha=0.0, tau=2, mode="async")
    >>> sched = rd.round_robin(alg, problem, np.ones(2), n_workers=2, steps=4)
    >>> print(rd.simulate(alg, problem, np.ones(2), sched).params)
    [1. 1.]

    References: Zhang, Choromanska, LeCun, NIPS 2015 (arXiv:1412.6651), Eqs. 5–6 and
    Algorithm 1. Proof page: :ref:`dist-easgd`.
    """
    alpha = base.check_real("alpha", alpha, low=0.0, high=1.0)
    tau = _common.check_period("tau", tau)
    base.check_choice("mode", mode, ("sync", "async"))
    if local is None:
        lr = base.check_real("lr", lr, low=0.0)
        return EASGD(sgd(lr), f"sgd(lr={lr!r})", alpha, tau, mode)
    return EASGD(_common.check_rule("local", local), "user rule", alpha, tau, mode)
