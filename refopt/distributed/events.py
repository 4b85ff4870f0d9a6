"""Event logs: the explicit order of reads, computes and writes, and generators for usual orders.

An event is a JSON-serialisable dict:

- ``{"event": "read", "worker": w}`` — w receives the server's current snapshot;
- ``{"event": "compute", "worker": w, "step": k, "seed": s, "batch": [i, ...]}`` — w computes a
  gradient on the listed examples (drawn by :func:`draw_batch` from ``seed``) and takes its
  local step;
- ``{"event": "write", "worker": w, "block": b}`` — w's message (block b of it) reaches the server.

A *log* (what :func:`~refopt.distributed.simulate` and :func:`~refopt.distributed.run_ray`
return) adds ``"version"`` to reads and writes — the number of server updates applied before
the read, or after the write (``None`` while a synchronous round is incomplete) — and wraps
the events with the algorithm's name, configuration and the number of workers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt.distributed.algorithm import Algorithm


def draw_batch(n_examples: int, batch_size: int, seed: int, worker: int, step: int) -> list[int]:
    """Worker ``worker``'s batch at local step ``step``: ``batch_size`` distinct indices from
    PCG64 seeded with ``[seed, worker, step]`` (counter-based, so any process draws the same)."""
    rng = np.random.default_rng([seed, worker, step])
    return [int(i) for i in rng.choice(n_examples, size=batch_size, replace=False)]


def _check_counts(n_workers: Any, steps: Any, batch_size: Any, n_examples: int) -> None:
    for name, v in (("n_workers", n_workers), ("steps", steps), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if batch_size > n_examples:
        raise ValueError(f"batch_size must be <= the objective's {n_examples} examples, got {batch_size}")


def worker_steps(algorithm: Algorithm, objective: Any, params: Any, worker: int, steps: int,
                 batch_size: int, seed: int) -> list[list[dict]]:
    """Worker ``worker``'s program: for each local step, its [read], compute, [writes]."""
    n_blocks = algorithm.blocks(params)
    program = []
    for k in range(steps):
        read, write = algorithm.plan(k)
        step = [{"event": "read", "worker": worker}] if read else []
        step.append({"event": "compute", "worker": worker, "step": k, "seed": seed,
                     "batch": draw_batch(objective.n_examples, batch_size, seed, worker, k)})
        if write:
            step.extend({"event": "write", "worker": worker, "block": b} for b in range(n_blocks))
        program.append(step)
    return program


def round_robin(algorithm: Algorithm, objective: Any, params: Any, *, n_workers: int, steps: int,
                batch_size: int = 1, seed: int = 0) -> list[dict]:
    """Worker 0's step k, then worker 1's step k, …, then step k + 1 (no overlap at all)."""
    _check_counts(n_workers, steps, batch_size, objective.n_examples)
    programs = [worker_steps(algorithm, objective, params, w, steps, batch_size, seed)
                for w in range(n_workers)]
    return [e for k in range(steps) for w in range(n_workers) for e in programs[w][k]]


def one_worker(algorithm: Algorithm, objective: Any, params: Any, *, steps: int, batch_size: int = 1,
               seed: int = 0) -> list[dict]:
    """A single worker: the serial algorithm's order."""
    return round_robin(algorithm, objective, params, n_workers=1, steps=steps, batch_size=batch_size,
                       seed=seed)


def bounded_delay(algorithm: Algorithm, objective: Any, params: Any, *, n_workers: int, steps: int,
                  tau: int, batch_size: int = 1, seed: int = 0) -> list[dict]:
    """A random interleaving (PCG64 from ``seed``) in which between a worker's read and each
    write of the same step at most ``tau`` writes of *other* workers reach the server.

    A step is admitted only when the writes it adds fit the budgets of the steps in flight,
    and its own budget covers what they still have to write, so no order deadlocks; τ = 0
    gives a serial order. Synchronous algorithms also never read while their own message
    waits for the round.
    """
    _check_counts(n_workers, steps, batch_size, objective.n_examples)
    if isinstance(tau, bool) or not isinstance(tau, int) or tau < 0:
        raise ValueError(f"tau must be an integer >= 0, got {tau!r}")
    rng = np.random.default_rng([seed, 0x5EED])
    programs = [worker_steps(algorithm, objective, params, w, steps, batch_size, seed)
                for w in range(n_workers)]
    step_of, event_of = [0] * n_workers, [0] * n_workers
    budget: dict[int, int] = {}      # open step → how many more foreign writes it can take
    left: dict[int, int] = {}        # open step → its writes still to come
    buffered: set[int] = set()       # synchronous: workers whose message waits for the round
    out: list[dict] = []
    while any(step_of[w] < steps for w in range(n_workers)):
        ready = []
        for u in range(n_workers):
            if step_of[u] >= steps:
                continue
            step = programs[u][step_of[u]]
            if event_of[u] == 0:                         # opening a step
                writes = sum(e["event"] == "write" for e in step)
                if any(budget[w] < writes for w in budget) or tau - sum(left.values()) < 0:
                    continue
                if algorithm.synchronous and u in buffered and step[0]["event"] == "read":
                    continue
            ready.append(u)
        u = int(rng.choice(ready))
        step = programs[u][step_of[u]]
        if event_of[u] == 0:
            writes = sum(e["event"] == "write" for e in step)
            for w in budget:
                budget[w] -= writes
            budget[u], left[u] = tau - sum(left.values()), writes
        e = step[event_of[u]]
        out.append(e)
        if e["event"] == "write":
            left[u] -= 1
            if algorithm.synchronous:
                buffered.add(u)
                if len(buffered) == n_workers:
                    buffered.clear()
        event_of[u] += 1
        if event_of[u] == len(step):
            step_of[u], event_of[u] = step_of[u] + 1, 0
            budget.pop(u), left.pop(u)
    return out
