"""AdaptiveRevision (McMahan & Streeter 2014): Adagrad rates revised for gradients applied in a delay."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import _xp, base
from refopt import tree as _tree
from refopt.distributed.algorithm import Algorithm


class RevisionServer(NamedTuple):
    """Server of :func:`adaptive_revision` (all per coordinate)."""

    x: Any       # θ
    z: Any       # z = Σ of every gradient applied so far
    G: Any       # Ḡ = Σ (g² + 2 g g_bck), the delay-aware squared-gradient sum
    G_max: Any   # max over time of Ḡ (keeps the rate non-increasing)


class RevisionWorker(NamedTuple):
    """Worker of :func:`adaptive_revision`."""

    x: Any       # θ at its read
    z_old: Any   # z at its read
    grads: Any   # g computed at x


class AdaptiveRevision(Algorithm):
    name = "adaptive_revision"

    def __init__(self, lr: float, eps: float):
        self.lr, self.eps = lr, eps

    def config(self) -> dict:
        return {"lr": self.lr, "eps": self.eps}

    def init_server(self, params):
        zeros = _tree.map(lambda p: p * 0.0, params)
        return RevisionServer(params, zeros, zeros, zeros)

    def center(self, server):
        return server.x

    def snapshot(self, server):
        return server.x, server.z

    def init_worker(self, params, worker):
        return RevisionWorker(params, _tree.map(lambda p: p * 0.0, params), None)

    def read(self, worker_state, snapshot):
        x, z = snapshot
        return RevisionWorker(x, z, None)

    def compute(self, worker_state, grads):
        return worker_state._replace(grads=grads)

    def message(self, worker_state, block):
        return (worker_state.grads, worker_state.z_old), worker_state._replace(grads=None)

    def apply(self, server, messages):
        (_, _, (grads, z_old)), = messages
        lr, eps = self.lr, self.eps

        def leaf(x, z, G, G_max, g, zo):
            xp = _xp.namespace(x)
            g_bck = z - zo                               # gradients applied during the delay
            denom_old = xp.sqrt(G_max + eps)             # η_old = α/√(Ḡ_max + ε)
            G = G + g * g + 2.0 * g * g_bck
            G_max = xp.maximum(G_max, G)
            denom = xp.sqrt(G_max + eps)
            # θ ← θ − η g + (η_old − η) g_bck: the revision of the delayed gradients' rate
            x = x - lr * (g / denom) + (lr / denom_old - lr / denom) * g_bck
            return x, z + g, G, G_max

        out = _tree.map(leaf, server.x, server.z, server.G, server.G_max, grads, z_old, n_out=4)
        return RevisionServer(*out)


def adaptive_revision(lr: float = 0.1, *, eps: float = 1e-8) -> AdaptiveRevision:
    r"""AdaptiveRevision: per-coordinate Adagrad that revises the rate of in-flight gradients.

    A worker reads (θ, z) and later sends (g, z_old). The server, per coordinate:

    .. math::
        g^{bck} = z - z_{old},\quad \eta_{old} = \frac{\alpha}{\sqrt{\bar G_{max} + \epsilon}},\quad
        \bar G \mathrel{+}= g^2 + 2 g\, g^{bck},\quad \bar G_{max} = \max(\bar G_{max}, \bar G),\\
        \eta = \frac{\alpha}{\sqrt{\bar G_{max} + \epsilon}},\quad
        \theta \leftarrow \theta - \eta g + (\eta_{old} - \eta)\, g^{bck},\quad z \mathrel{+}= g

    With no delay (g_bck = 0) it is ``refopt.adagrad(lr=α, eps=ε)`` (ε inside the root), bitwise.

    **Conventions.** ε inside the root as refopt.adagrad's paper form (the paper's analysis has
    no ε); the form follows our reading of the paper's AdaptiveRevision algorithm — see the
    proofs page for what could not be checked against the paper's text.

    Args:
      lr: α >= 0. eps: ε > 0 (before the first update Ḡ_max = 0, and η_old must be finite).

    Example (g1 = 1 lands, then g2 = 2 read before it: both end up applied with the current
    rate :math:`\alpha/|g_1 + g_2|`, so θ = −(g1 + g2)/3 = −1):

    >>> import numpy as np, refopt.distributed as rd
    >>> alg = rd.adaptive_revision(lr=1.0, eps=1e-300)
    >>> server = alg.init_server(np.zeros(1))
    >>> server = alg.apply(server, [(0, 0, (np.array([1.0]), np.zeros(1)))])
    >>> server = alg.apply(server, [(1, 0, (np.array([2.0]), np.zeros(1)))])
    >>> print(server.x)
    [-1.]

    References: McMahan & Streeter, NIPS 2014 (AdaptiveRevision). Proof page:
    :ref:`dist-adaptive-revision`.
    """
    return AdaptiveRevision(base.check_real("lr", lr, low=0.0), base.check_real("eps", eps, low=0.0,
                                                                                  low_open=True))
