"""Run an algorithm for real on Ray: one server actor, N worker actors; record what happened.

The server actor processes one call at a time, so the order in which it served reads and
writes *is* the order of events at the server; each worker records its own computes between
its server calls. Merging the two gives a log that :func:`~refopt.distributed.replay` turns
into the same result, bit for bit (the arrays travel through Ray's serialiser unchanged).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt.distributed.algorithm import Algorithm
from refopt.distributed.events import _check_counts, worker_steps


class _Server:
    """Holds the server state; serves reads and writes in arrival order."""

    def __init__(self, algorithm: Algorithm, params: Any, n_workers: int):
        self.alg, self.n = algorithm, n_workers
        self.server, self.version, self.buffer, self.events = algorithm.init_server(params), 0, {}, []

    def read(self, worker: int) -> tuple[Any, int]:
        self.events.append({"event": "read", "worker": worker, "version": self.version})
        return self.alg.snapshot(self.server), len(self.events) - 1

    def write(self, worker: int, block: int, msg: Any) -> int:
        applied = None
        if self.alg.synchronous:
            self.buffer[worker] = (worker, block, msg)
            if len(self.buffer) == self.n:
                self.server, self.buffer = self.alg.apply(self.server, list(self.buffer.values())), {}
                self.version += 1
                applied = self.version
        else:
            self.server = self.alg.apply(self.server, [(worker, block, msg)])
            self.version += 1
            applied = self.version
        self.events.append({"event": "write", "worker": worker, "block": block, "version": applied})
        return len(self.events) - 1

    def result(self) -> tuple[Any, list]:
        return self.alg.center(self.server), self.events


class _Worker:
    """Runs one worker's program; computes are tagged with the server event they follow."""

    def __init__(self, algorithm: Algorithm, objective: Any, params: Any, worker: int, steps: int,
                 batch_size: int, seed: int):
        self.alg, self.objective, self.w = algorithm, objective, worker
        self.program = worker_steps(algorithm, objective, params, worker, steps, batch_size, seed)
        self.state, self.after, self.computes = algorithm.init_worker(params, worker), -1, []

    def run(self, server: Any, first: int, last: int) -> None:
        import ray
        for step in self.program[first:last]:
            for e in step:
                if e["event"] == "read":
                    snapshot, self.after = ray.get(server.read.remote(self.w))
                    self.state = self.alg.read(self.state, snapshot)
                elif e["event"] == "compute":
                    grads = self.objective.batch_grad(self.alg.query(self.state), np.asarray(e["batch"]))
                    self.state = self.alg.compute(self.state, grads)
                    self.computes.append((self.after, e))
                else:
                    msg, self.state = self.alg.message(self.state, e["block"])
                    self.after = ray.get(server.write.remote(self.w, e["block"], msg))

    def result(self) -> tuple[Any, list]:
        return self.state.x, self.computes


def merge(server_events: list[dict], computes: list[tuple[int, dict]]) -> list[dict]:
    """Server events in service order, each worker's computes right after the server event
    that preceded them on that worker (their place relative to other workers is immaterial)."""
    after: dict[int, list[dict]] = {}
    for seq, e in computes:
        after.setdefault(seq, []).append(e)
    out = list(after.get(-1, []))
    for seq, e in enumerate(server_events):
        out.append(e)
        out.extend(after.get(seq, []))
    return out


def run_ray(algorithm: Algorithm, objective: Any, params: Any, *, n_workers: int, steps: int,
            address: str | None = None, batch_size: int = 1, seed: int = 0):
    """Run ``algorithm`` with ``n_workers`` Ray worker actors for ``steps`` local steps each.

    Uses the running Ray instance if there is one, else ``ray.init(address)`` (local when
    ``address`` is None; shut down again afterwards). Asynchronous algorithms run their
    workers freely; synchronous ones step together (a barrier per step). Returns a
    :class:`~refopt.distributed.Run` whose ``log`` is the order that actually happened.
    """
    if not isinstance(algorithm, Algorithm):
        raise TypeError(f"algorithm must be a refopt.distributed algorithm, got {type(algorithm).__name__}")
    _check_counts(n_workers, steps, batch_size, objective.n_examples)
    try:
        import ray
    except ImportError as exc:   # the optional extra
        raise ImportError("run_ray needs Ray: pip install 'refopt[distributed]'") from exc
    from refopt.distributed.simulate import Run
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        # num_cpus=0: the actors only wait on each other, and a 2-CPU machine must hold N + 1
        server = ray.remote(num_cpus=0)(_Server).remote(algorithm, params, n_workers)
        workers = [ray.remote(num_cpus=0)(_Worker).remote(algorithm, objective, params, w, steps,
                                                         batch_size, seed) for w in range(n_workers)]
        if algorithm.synchronous:
            for k in range(steps):
                ray.get([wk.run.remote(server, k, k + 1) for wk in workers])
        else:
            ray.get([wk.run.remote(server, 0, steps) for wk in workers])
        center, server_events = ray.get(server.result.remote())
        results = ray.get([wk.result.remote() for wk in workers])
    finally:
        if started:
            ray.shutdown()
    computes = [c for _, cs in results for c in cs]
    head = {"algorithm": algorithm.name, "config": algorithm.config(), "n_workers": n_workers}
    return Run(center, {**head, "events": merge(server_events, computes)}, [x for x, _ in results])
