"""How element-wise rules execute their per-leaf math: ``"fused"`` (default) or ``"readable"``.

Every element-wise rule writes its per-leaf math once, as a pure function of the leaf arrays and
the step's scalars (:mod:`refopt.elementwise`). ``"readable"`` calls that function leaf by leaf
with the array namespace's own operators — one temporary array per operator, the path the docs
show. ``"fused"`` runs the *same* function once per (rule, configuration, dtype) on symbolic
values, records its operations, and executes the recording as one pass over memory (a blocked
NumPy evaluator on the CPU, one generated CUDA kernel on CuPy). The two agree bit for bit; the
tests pin that for every element-wise rule.

The mode is a context variable, so it is per thread and per asyncio task:

>>> import refopt
>>> refopt.get_execution()
'fused'
>>> with refopt.execution("readable"):
...     print(refopt.get_execution())
readable

The environment variable ``REFOPT_EXECUTION`` sets the default for a process.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Literal, get_args

Execution = Literal["fused", "readable"]
EXECUTIONS: tuple[str, ...] = get_args(Execution)


def _check(mode: object, name: str = "mode") -> str:
    if not isinstance(mode, str) or mode not in EXECUTIONS:
        raise ValueError(f"{name} must be one of {list(EXECUTIONS)}, got {mode!r}")
    return mode


_DEFAULT: str = _check(os.environ.get("REFOPT_EXECUTION", "fused"), "REFOPT_EXECUTION")
_MODE: contextvars.ContextVar[str] = contextvars.ContextVar("refopt_execution", default=_DEFAULT)


def get_execution() -> Execution:
    """The current execution mode, ``"fused"`` or ``"readable"``."""
    return _MODE.get()  # type: ignore[return-value]


def set_execution(mode: Execution) -> None:
    """Set the execution mode for the current context (thread / task)."""
    _MODE.set(_check(mode))


@contextlib.contextmanager
def execution(mode: Execution) -> Iterator[None]:
    """Run the body under ``mode``, restoring the previous mode afterwards."""
    token = _MODE.set(_check(mode))
    try:
        yield
    finally:
        _MODE.reset(token)
