"""The deterministic simulator: run an algorithm through an explicit event log."""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt.distributed.algorithm import Algorithm

_KINDS = ("read", "compute", "write")


class Run:
    """A finished run: ``params`` (the server's / center's), ``log`` (JSON-serialisable),
    ``workers`` (each worker's final local parameters) and, if asked, ``trace``: after every
    event, (center, [worker parameters])."""

    def __init__(self, params: Any, log: dict, workers: list, trace: list | None = None):
        self.params, self.log, self.workers, self.trace = params, log, workers, trace

    def __repr__(self) -> str:
        return (f"Run({self.log['algorithm']}, n_workers={self.log['n_workers']}, "
                f"events={len(self.log['events'])})")


def _events(schedule: Any) -> tuple[list[dict], int]:
    if isinstance(schedule, dict):
        events, n = schedule.get("events"), schedule.get("n_workers")
    else:
        events, n = schedule, None
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) for e in events):
        raise TypeError("schedule must be a non-empty list of event dicts or a log dict with 'events'")
    for i, e in enumerate(events):
        w = e.get("worker")
        if e.get("event") not in _KINDS:
            raise ValueError(f"schedule[{i}]['event'] must be one of {list(_KINDS)}, got {e.get('event')!r}")
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise ValueError(f"schedule[{i}]['worker'] must be an integer >= 0, got {w!r}")
        if e["event"] == "compute" and not (isinstance(e.get("batch"), list) and e["batch"]):
            raise ValueError(f"schedule[{i}]['batch'] must be a non-empty list of example indices")
    workers = 1 + max(e["worker"] for e in events)
    if n is None:
        n = workers
    elif isinstance(n, bool) or not isinstance(n, int) or n < workers:
        raise ValueError(f"n_workers must be an integer >= {workers} (the workers in the events), got {n!r}")
    return events, n


def _check_version(i: int, e: dict, version: Any) -> None:
    if "version" in e and e["version"] != version:
        raise ValueError(f"schedule[{i}] ({e['event']} by worker {e['worker']}) recorded version "
                         f"{e['version']!r} but the replay reached {version!r}: the log does not fit "
                         "this algorithm, objective or starting point")


def simulate(algorithm: Algorithm, objective: Any, params: Any, schedule: Any, *,
             trace: bool = False) -> Run:
    """Run ``algorithm`` on the finite sum ``objective`` from ``params`` through ``schedule``.

    ``schedule`` is a list of events (as made by :func:`round_robin` or :func:`bounded_delay`)
    or a log. Events that carry a ``version`` (a recorded log) must meet the same version here,
    else ValueError. With ``trace=True`` the run keeps (center, workers) after every event.
    """
    if not isinstance(algorithm, Algorithm):
        raise TypeError(f"algorithm must be a refopt.distributed algorithm, got {type(algorithm).__name__}")
    events, n_workers = _events(schedule)
    server = algorithm.init_server(params)
    workers = [algorithm.init_worker(params, w) for w in range(n_workers)]
    version, buffer, log, frames = 0, {}, [], []
    for i, e in enumerate(events):
        w, kind = e["worker"], e["event"]
        if kind == "read":
            if algorithm.synchronous and w in buffer:
                raise ValueError(f"schedule[{i}]: worker {w} reads before the synchronous round it "
                                 "wrote to was applied")
            _check_version(i, e, version)
            workers[w] = algorithm.read(workers[w], algorithm.snapshot(server))
            rec = {"event": "read", "worker": w, "version": version}
        elif kind == "compute":
            grads = objective.batch_grad(algorithm.query(workers[w]), np.asarray(e["batch"]))
            workers[w] = algorithm.compute(workers[w], grads)
            rec = {k: e[k] for k in ("event", "worker", "step", "seed", "batch") if k in e}
        else:
            block = e.get("block", 0)
            msg, workers[w] = algorithm.message(workers[w], block)
            applied = None
            if algorithm.synchronous:
                buffer[w] = (w, block, msg)
                if len(buffer) == n_workers:
                    server, buffer = algorithm.apply(server, list(buffer.values())), {}
                    version += 1
                    applied = version
            else:
                server = algorithm.apply(server, [(w, block, msg)])
                version += 1
                applied = version
            _check_version(i, e, applied)
            rec = {"event": "write", "worker": w, "block": block, "version": applied}
        log.append(rec)
        if trace:
            frames.append((algorithm.center(server), [x.x for x in workers]))
    head = {"algorithm": algorithm.name, "config": algorithm.config(), "n_workers": n_workers}
    return Run(algorithm.center(server), {**head, "events": log}, [x.x for x in workers],
               frames if trace else None)


def replay(algorithm: Algorithm, objective: Any, params: Any, log: dict) -> Run:
    """Re-run a recorded log (e.g. ``run_ray(...).log``) in the simulator.

    The log's algorithm name and configuration must be ``algorithm``'s, and every recorded
    version must be met; the result then equals the recorded run's, bit for bit.
    """
    if not isinstance(log, dict) or "events" not in log:
        raise TypeError("log must be a dict with 'events' (a Run.log)")
    if log.get("algorithm") != algorithm.name or log.get("config") != algorithm.config():
        raise ValueError(f"log was recorded for {log.get('algorithm')!r} {log.get('config')!r}, not "
                         f"{algorithm!r}")
    return simulate(algorithm, objective, params, log)
