"""Synchronous data-parallel SGD: the server applies a rule to the mean of N worker gradients."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, treemath
from refopt.distributed import _common
from refopt.distributed.algorithm import Algorithm
from refopt.optim.sgd import sgd


class SyncServer(NamedTuple):
    """Server of :func:`sync_sgd`."""

    params: Any       # θ_t
    rule_state: Any   # the server rule's state


class SyncWorker(NamedTuple):
    """Worker of :func:`sync_sgd`."""

    x: Any            # the θ it last read
    grads: Any        # its gradient g^i_t (None before the first compute)


class SyncSGD(Algorithm):
    name = "sync_sgd"
    synchronous = True

    def __init__(self, rule: base.Optimizer, rule_name: str):
        self.rule, self.rule_name = rule, rule_name

    def config(self) -> dict:
        return {"rule": self.rule_name}

    def init_server(self, params):
        return SyncServer(params, self.rule.init(params))

    def center(self, server):
        return server.params

    def init_worker(self, params, worker):
        return SyncWorker(params, None)

    def read(self, worker_state, snapshot):
        return worker_state._replace(x=snapshot)

    def compute(self, worker_state, grads):
        return worker_state._replace(grads=grads)

    def message(self, worker_state, block):
        return worker_state.grads, worker_state._replace(grads=None)

    def apply(self, server, messages):
        grads = [m for _, _, m in sorted(messages, key=lambda e: e[0])]
        # mean in worker order; one worker: the gradient itself (a division by 1 is exact)
        mean = treemath.scale(1.0 / len(grads), _common.tree_sum(grads)) if len(grads) > 1 else grads[0]
        params, state = self.rule.update(mean, server.rule_state, server.params)
        return SyncServer(params, state)


def sync_sgd(rule: base.Optimizer | None = None, *, lr: float = 0.01) -> SyncSGD:
    r"""Synchronous data-parallel SGD (all-reduce of the workers' gradients).

    .. math:: \theta_t = \mathrm{rule}\Big(\theta_{t-1},\ \tfrac1N \textstyle\sum_{i=1}^N
        \nabla\ell_{B^i_t}(\theta_{t-1})\Big)

    Every worker reads θ_{t−1}, computes a gradient on its own batch B^i_t, and the server
    applies ``rule`` (default ``refopt.sgd(lr)``) once all N gradients of the round arrived,
    summing in worker order. With N = 1 it is the serial rule, bitwise.

    **Conventions.** The mean (not the sum) of worker gradients, as in torch's
    DistributedDataParallel; the batch size of the serial rule it equals is N × the worker's.

    Args:
      rule: the server's refopt rule (default ``refopt.sgd(lr)``). lr: η of the default rule.

    Example (a round is one step of the rule on the mean of the workers' gradients):

    >>> import numpy as np, refopt.distributed as rd
    >>> from refopt.problems import LeastSquares
    >>> X = np.arange(12.0).reshape(6, 2) / 10; problem = LeastSquares(X, X @ np.array([1.0, -1.0]))
    >>> alg = rd.sync_sgd(lr=0.5)
    >>> sched = rd.round_robin(alg, problem, np.zeros(2), n_workers=2, steps=1, batch_size=3)
    >>> batch = [i for e in sched if e["event"] == "compute" for i in e["batch"]]
    >>> run = rd.simulate(alg, problem, np.zeros(2), sched)
    >>> bool(np.allclose(run.params, -0.5 * problem.batch_grad(np.zeros(2), np.array(batch)), rtol=1e-15))
    True

    References: Dean et al., NIPS 2012 (the synchronous baseline). Proof page:
    :ref:`dist-sync-sgd`.
    """
    if rule is None:
        lr = base.check_real("lr", lr, low=0.0)
        return SyncSGD(sgd(lr), f"sgd(lr={lr!r})")
    return SyncSGD(_common.check_rule("rule", rule), "user rule")
