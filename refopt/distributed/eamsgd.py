"""EAMSGD (Zhang, Choromanska, LeCun 2015, Algorithm 2): asynchronous EASGD with Nesterov momentum."""

from __future__ import annotations

from refopt import base, treemath
from refopt.distributed import _common
from refopt.distributed.easgd import EASGD, EASGDWorker


class EAMSGD(EASGD):
    name = "eamsgd"

    def __init__(self, lr, delta, alpha, tau):
        super().__init__(None, "nesterov", alpha, tau, "async")
        self.lr, self.delta = lr, delta

    def config(self) -> dict:
        return {"lr": self.lr, "delta": self.delta, "alpha": self.alpha, "tau": self.tau}

    def init_worker(self, params, worker):
        return EASGDWorker(params, treemath.scale(0.0, params), None, None)

    def query(self, w):
        return treemath.add_scaled(w.x, self.delta, w.rule_state)   # x^i + δ v^i

    def compute(self, w, grads):
        v = treemath.add_scaled(treemath.scale(self.delta, w.rule_state), -self.lr, grads)
        return EASGDWorker(treemath.add_scaled(w.x, 1.0, v), v, w.elastic, None)


def eamsgd(lr: float = 0.01, *, delta: float = 0.9, alpha: float = 0.1, tau: int = 1) -> EAMSGD:
    r"""EAMSGD: asynchronous EASGD whose local step is Nesterov momentum (Algorithm 2).

    Every τ steps the elastic exchange of asynchronous :func:`easgd`; every step

    .. math:: v^i \leftarrow \delta v^i - \eta\, g^i(x^i + \delta v^i),\qquad x^i \leftarrow x^i + v^i

    With δ = 0 it is asynchronous EASGD with ``refopt.sgd(η)``.

    Args:
      lr: η >= 0. delta: δ in [0, 1). alpha: α in [0, 1]. tau: τ, an integer >= 1.

    Example (the gradient is taken at the look-ahead point x + δv):

    >>> import numpy as np, refopt.distributed as rd
    >>> alg = rd.eamsgd(lr=0.1, delta=0.5, alpha=0.2, tau=4)
    >>> w = alg.init_worker(np.array([1.0]), 0)._replace(rule_state=np.array([2.0]))
    >>> print(alg.query(w))
    [2.]

    References: Zhang, Choromanska, LeCun, NIPS 2015, Algorithm 2. Proof page: :ref:`dist-easgd`.
    """
    lr = base.check_real("lr", lr, low=0.0)
    delta = base.check_real("delta", delta, low=0.0, high=1.0, high_open=True)
    alpha = base.check_real("alpha", alpha, low=0.0, high=1.0)
    return EAMSGD(lr, delta, alpha, _common.check_period("tau", tau))
