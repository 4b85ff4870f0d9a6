"""Parallel and distributed SGD with reference semantics (Ruder 2016 §4).

Each algorithm is a set of pure server/worker updates (``refopt.distributed.algorithm``);
:func:`simulate` runs it through an explicit event log, :func:`run_ray` runs it for real on
Ray actors and records the log that happened, and :func:`replay` re-runs such a log here —
bit for bit the same result.

>>> import numpy as np, refopt.distributed as rd
>>> from refopt.problems import LeastSquares
>>> X = np.arange(12.0).reshape(6, 2) / 10; problem = LeastSquares(X, X @ np.array([1.0, -1.0]))
>>> alg = rd.hogwild(lr=0.5, block_size=1)
>>> schedule = rd.bounded_delay(alg, problem, np.zeros(2), n_workers=3, steps=2, tau=2, seed=1)
>>> run = rd.simulate(alg, problem, np.zeros(2), schedule)
>>> np.array_equal(rd.replay(alg, problem, np.zeros(2), run.log).params, run.params)
True
"""

from refopt.distributed.adaptive_revision import adaptive_revision
from refopt.distributed.algorithm import Algorithm
from refopt.distributed.downpour import downpour
from refopt.distributed.eamsgd import eamsgd
from refopt.distributed.easgd import easgd
from refopt.distributed.events import bounded_delay, draw_batch, one_worker, round_robin
from refopt.distributed.hogwild import hogwild
from refopt.distributed.ray_runner import run_ray
from refopt.distributed.simulate import Run, replay, simulate
from refopt.distributed.sync_sgd import sync_sgd

#: The table the docs list, name → (factory, paper, proofs/ label).
ALGORITHMS = {
    "sync_sgd": (sync_sgd, "synchronous data-parallel SGD (the baseline)", "dist-sync-sgd"),
    "hogwild": (hogwild, "Niu, Recht, Ré, Wright, NIPS 2011", "dist-hogwild"),
    "downpour": (downpour, "Dean et al., NIPS 2012", "dist-downpour"),
    "adaptive_revision": (adaptive_revision, "McMahan & Streeter, NIPS 2014", "dist-adaptive-revision"),
    "easgd": (easgd, "Zhang, Choromanska, LeCun, NIPS 2015", "dist-easgd"),
    "eamsgd": (eamsgd, "Zhang, Choromanska, LeCun, NIPS 2015", "dist-easgd"),
}

__all__ = ["ALGORITHMS", "Algorithm", "Run", "adaptive_revision", "bounded_delay", "downpour",
           "draw_batch", "eamsgd", "easgd", "hogwild", "one_worker", "replay", "round_robin",
           "run_ray", "simulate", "sync_sgd"]
