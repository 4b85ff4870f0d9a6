"""Hogwild! (Niu, Recht, Ré, Wright 2011): lock-free SGD with per-block writes."""

from __future__ import annotations

from typing import Any, NamedTuple

from refopt import _xp, base
from refopt import tree as _tree
from refopt.distributed.algorithm import Algorithm


class HogwildWorker(NamedTuple):
    """Worker of :func:`hogwild`."""

    x: Any       # the θ it last read (a consistent snapshot; see the proofs page)
    grads: Any   # its last gradient, written back one block at a time


def _blocks(params: Any, block_size: int | None) -> list[tuple[int, int, int]]:
    """(leaf index, start, stop) over each leaf's flattened coordinates, in leaf order."""
    out = []
    for i, leaf in enumerate(_tree.leaves(params)):
        n = int(leaf.size) if hasattr(leaf, "size") else 1
        step = n if block_size is None else block_size
        out.extend((i, a, min(a + step, n)) for a in range(0, max(n, 1), max(step, 1)))
    return out


class Hogwild(Algorithm):
    name = "hogwild"

    def __init__(self, lr: float, block_size: int | None):
        self.lr, self.block_size = lr, block_size

    def config(self) -> dict:
        return {"lr": self.lr, "block_size": self.block_size}

    def blocks(self, params):
        return len(_blocks(params, self.block_size))

    def init_server(self, params):
        return params

    def center(self, server):
        return server

    def init_worker(self, params, worker):
        return HogwildWorker(params, None)

    def read(self, worker_state, snapshot):
        return worker_state._replace(x=snapshot)

    def compute(self, worker_state, grads):
        return worker_state._replace(grads=grads)

    def message(self, worker_state, block):
        i, a, b = _blocks(worker_state.grads, self.block_size)[block]
        g = _tree.leaves(worker_state.grads)[i]
        xp = _xp.namespace(g)
        return xp.reshape(g, (-1,))[a:b], worker_state

    def apply(self, server, messages):
        (_, block, g_block), = messages
        i, a, b = _blocks(server, self.block_size)[block]
        leaves, treedef = _tree.flatten(server)
        leaf = leaves[i]
        xp = _xp.namespace(leaf)
        flat = xp.reshape(leaf, (-1,))
        # x_v ← x_v − γ g_v on the block only; the other coordinates are copied unchanged
        new = xp.concat([flat[:a], flat[a:b] - self.lr * g_block, flat[b:]])
        leaves = list(leaves)
        leaves[i] = xp.reshape(new, leaf.shape)
        return _tree.unflatten(treedef, leaves)


def hogwild(lr: float = 0.01, *, block_size: int | None = None) -> Hogwild:
    r"""Hogwild!: each worker reads θ, computes g on its batch, and writes block by block.

    .. math:: \theta_{v} \leftarrow \theta_{v} - \gamma\, g_{v}(\hat\theta)
        \quad\text{for each block } v \text{, one write event each}

    where θ̂ is the (possibly stale) snapshot the worker read. Blocks are consecutive runs of
    ``block_size`` coordinates of each flattened leaf (``None``: one block per leaf). Writing a
    block whose gradient is zero leaves it unchanged bitwise, so the paper's sparse writes
    (only the coordinates in the example's support e) give the same result as this dense form.

    **Conventions.** A read is an atomic snapshot and a block write is atomic (the page's
    granularity); between them other workers may write any blocks.

    Args:
      lr: γ >= 0. block_size: coordinates per block write (an int >= 1) or None.

    Example (every block write is its own event):

    >>> import numpy as np, refopt.distributed as rd
    >>> from refopt.problems import LeastSquares
    >>> X = np.arange(12.0).reshape(6, 2) / 10; problem = LeastSquares(X, X @ np.array([1.0, -1.0]))
    >>> alg = rd.hogwild(lr=0.1, block_size=1)
    >>> sched = rd.round_robin(alg, problem, np.zeros(2), n_workers=2, steps=1)
    >>> [(e["event"], e["worker"], e.get("block")) for e in sched][:4]
    [('read', 0, None), ('compute', 0, None), ('write', 0, 0), ('write', 0, 1)]

    References: Niu et al., NIPS 2011, Algorithm 1. Proof page: :ref:`dist-hogwild`.
    """
    lr = base.check_real("lr", lr, low=0.0)
    if block_size is not None and (isinstance(block_size, bool) or not isinstance(block_size, int)
                                   or block_size < 1):
        raise ValueError(f"block_size must be None or an integer >= 1, got {block_size!r}")
    return Hogwild(lr, block_size)
