"""The protocol every distributed algorithm implements: pure server and worker updates.

An algorithm is a set of pure functions on a *server* (parameter server or EASGD's center) and
on *workers*. Four events change them (see :mod:`refopt.distributed.events`):

- **read** — worker w receives ``snapshot(server)`` and folds it into its state (``read``);
- **compute** — worker w evaluates a mini-batch gradient at ``query(worker)`` and applies its
  local step (``compute``);
- **write** — worker w hands ``message(worker, block)`` to the server, which applies
  ``apply(server, messages)``. A *synchronous* algorithm's server waits until every worker's
  message of the round has arrived and applies them together, in worker order.

Which of read/write happen around a worker's k-th compute is the algorithm's own rule
(``plan(k)``, e.g. Downpour's n_fetch/n_push). Every function returns new objects and never
mutates its inputs, so the simulator and the Ray actors run the same code.
"""

from __future__ import annotations

from typing import Any


class Algorithm:
    """Base class: subclasses set ``name``, ``synchronous`` and override the pure functions."""

    name: str = ""
    synchronous: bool = False

    def config(self) -> dict:
        """Hyperparameters, JSON-serialisable, recorded at the head of every log."""
        raise NotImplementedError

    def plan(self, step: int) -> tuple[bool, bool]:
        """(read before, write after) the worker's ``step``-th compute (step = 0, 1, …)."""
        return True, True

    def blocks(self, params: Any) -> int:
        """How many write events one write is split into (Hogwild!'s per-block writes)."""
        return 1

    def init_server(self, params: Any) -> Any:
        raise NotImplementedError

    def center(self, server: Any) -> Any:
        """The server's parameters (the result of a run)."""
        raise NotImplementedError

    def snapshot(self, server: Any) -> Any:
        """What a read hands to a worker."""
        return self.center(server)

    def init_worker(self, params: Any, worker: int) -> Any:
        raise NotImplementedError

    def read(self, worker_state: Any, snapshot: Any) -> Any:
        raise NotImplementedError

    def query(self, worker_state: Any) -> Any:
        """Where the worker's next gradient is evaluated."""
        return worker_state.x

    def compute(self, worker_state: Any, grads: Any) -> Any:
        raise NotImplementedError

    def message(self, worker_state: Any, block: int) -> tuple[Any, Any]:
        """(message for the server, worker state after sending it)."""
        raise NotImplementedError

    def apply(self, server: Any, messages: list[tuple[int, int, Any]]) -> Any:
        """Apply ``[(worker, block, message), ...]`` (one entry unless synchronous)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{self.name}({args})"
