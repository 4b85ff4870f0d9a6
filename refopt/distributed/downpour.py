"""Downpour SGD (Dean et al. 2012): fetch every n_fetch steps, push every n_push, Adagrad at the server."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import base, treemath
from refopt.distributed import _common
from refopt.distributed.algorithm import Algorithm
from refopt.optim.adagrad import adagrad


class DownpourServer(NamedTuple):
    """Parameter server of :func:`downpour`."""

    params: Any       # θ held by the server
    rule_state: Any   # the server rule's state (Adagrad's G in the paper)


class DownpourWorker(NamedTuple):
    """Worker of :func:`downpour`."""

    x: Any            # its local copy of θ (fetched, then moved by its own steps)
    accrued: Any      # Σ of gradients since the last push (None: nothing accrued)


class Downpour(Algorithm):
    name = "downpour"

    def __init__(self, server_rule, rule_name, local_lr, n_fetch, n_push):
        self.server_rule, self.rule_name = server_rule, rule_name
        self.local_lr, self.n_fetch, self.n_push = local_lr, n_fetch, n_push

    def config(self) -> dict:
        return {"server": self.rule_name, "local_lr": self.local_lr, "n_fetch": self.n_fetch,
                "n_push": self.n_push}

    def plan(self, step):
        # the paper's client: fetch when step mod n_fetch = 0 (before computing), push when
        # step mod n_push = 0 (after computing), counting steps from 0
        return step % self.n_fetch == 0, step % self.n_push == 0

    def init_server(self, params):
        return DownpourServer(params, self.server_rule.init(params))

    def center(self, server):
        return server.params

    def init_worker(self, params, worker):
        return DownpourWorker(params, None)

    def read(self, worker_state, snapshot):
        return worker_state._replace(x=snapshot)

    def compute(self, worker_state, grads):
        accrued = grads if worker_state.accrued is None else treemath.add_scaled(
            worker_state.accrued, 1.0, grads)
        x = treemath.add_scaled(worker_state.x, -self.local_lr, grads)   # θ ← θ − α g
        return DownpourWorker(x, accrued)

    def message(self, worker_state, block):
        return worker_state.accrued, worker_state._replace(accrued=None)

    def apply(self, server, messages):
        (_, _, accrued), = messages
        params, state = self.server_rule.update(accrued, server.rule_state, server.params)
        return DownpourServer(params, state)


def downpour(server: base.Optimizer | None = None, *, lr: float = 0.01, local_lr: float | None = None,
             n_fetch: int = 1, n_push: int = 1) -> Downpour:
    r"""Downpour SGD: asynchronous workers around a parameter server running Adagrad.

    Worker (steps k = 0, 1, …): if k mod n_fetch = 0, θ ← server's θ; g = ∇ℓ_B(θ);
    a ← a + g; θ ← θ − α g; if k mod n_push = 0, push a and set a ← 0. Server, on a push:

    .. math:: \theta \leftarrow \mathrm{rule}(\theta, a) \quad(\text{Adagrad: }
        G \leftarrow G + a^2,\ \theta \leftarrow \theta - \eta\, a/\sqrt{G + \epsilon})

    With one worker and n_fetch = n_push = 1 it is the server rule run serially, bitwise.

    **Conventions.** The paper's step counting (fetch and push at k = 0); a push sends the
    accrued *sum* of gradients. Gradients accrued after the last push are not sent.

    Args:
      server: the server's refopt rule (default ``refopt.adagrad(lr)``, as in the paper).
      lr: η of the default server rule. local_lr: α of the worker's own steps (default lr).
      n_fetch, n_push: communication periods (integers >= 1).

    Example (which local steps fetch before and push after computing):

    >>> import refopt.distributed as rd
    >>> alg = rd.downpour(lr=0.1, n_fetch=2, n_push=3)
    >>> [alg.plan(k) for k in range(4)]
    [(True, True), (False, False), (True, False), (False, True)]

    References: Dean et al., NIPS 2012, §4.1 and the supplement's Downpour client algorithm.
    Proof page: :ref:`dist-downpour`.
    """
    lr = base.check_real("lr", lr, low=0.0)
    local_lr = lr if local_lr is None else base.check_real("local_lr", local_lr, low=0.0)
    n_fetch = _common.check_period("n_fetch", n_fetch)
    n_push = _common.check_period("n_push", n_push)
    if server is None:
        return Downpour(adagrad(lr), f"adagrad(lr={lr!r})", local_lr, n_fetch, n_push)
    return Downpour(_common.check_rule("server", server), "user rule", local_lr, n_fetch, n_push)
