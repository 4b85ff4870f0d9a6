"""How element-wise rules execute their per-leaf math: ``"fused"`` (default), ``"readable"`` or
``"compiled"``.

Every element-wise rule writes its per-leaf math once, as a pure function of the leaf arrays and
the step's scalars (:mod:`refopt.elementwise`). ``"readable"`` calls that function leaf by leaf
with the array namespace's own operators — one temporary array per operator, the path the docs
show. ``"fused"`` runs the *same* function once per (rule, configuration, dtype) on symbolic
values, records its operations, and executes the recording as one pass over memory (a blocked
NumPy evaluator on the CPU, one generated CUDA kernel on CuPy). ``"compiled"`` differs from
``"fused"`` on NumPy only: the recording becomes one loop compiled by Numba
(:mod:`refopt._compiled_numpy`; needs ``pip install "refopt[fast]"``), every intermediate in a
register; graphs with an operation NumPy does not round correctly (exp, log, power) stay on the
blocked evaluator. All three agree bit for bit; the tests pin that for every element-wise rule.

The mode is a context variable, so it is per thread and per asyncio task:

>>> import refopt
>>> refopt.get_execution()
'fused'
>>> with refopt.execution("readable"):
...     print(refopt.get_execution())
readable

The environment variable ``REFOPT_EXECUTION`` sets the default for a process.

**Donation** (``execution("fused", donate=True)``, also with ``"compiled"``; off by default)
lets a fused NumPy update write the new parameters and state into the buffers of the params and
state it was given, as JAX's buffer donation does, instead of allocating new arrays: after the
call the arrays passed in may hold the new values (the returned trees are then those same
arrays), and must not be used as the old values again. Grads are never written. It is
permission, not a promise: a buffer is reused only where that is safe (a writeable C-contiguous
array of the output's dtype that overlaps no other input, read before it is overwritten) and
only on NumPy. On the CPU it spares the read-for-ownership of fresh output memory (see
docs/performance.md); CuPy's memory pool makes fresh outputs cheap, so CuPy always allocates.
Without donation, fused outputs come from a pool that reuses a buffer only once no array
refers to it (:func:`refopt.release_buffers`), so pure updates do not page-fault either.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Literal, get_args

Execution = Literal["fused", "readable", "compiled"]
EXECUTIONS: tuple[str, ...] = get_args(Execution)


def _check(mode: object, name: str = "mode") -> str:
    if not isinstance(mode, str) or mode not in EXECUTIONS:
        raise ValueError(f"{name} must be one of {list(EXECUTIONS)}, got {mode!r}")
    if mode == "compiled":
        from refopt import _compiled_numpy
        if not _compiled_numpy.available():
            raise ImportError(f'{name}="compiled" needs Numba: pip install "refopt[fast]" '
                              '(or use "fused", which needs nothing beyond NumPy)')
    return mode


_DEFAULT: str = _check(os.environ.get("REFOPT_EXECUTION", "fused"), "REFOPT_EXECUTION")
_MODE: contextvars.ContextVar[str] = contextvars.ContextVar("refopt_execution", default=_DEFAULT)
_DONATE: contextvars.ContextVar[bool] = contextvars.ContextVar("refopt_donate", default=False)
# how many rule updates are running inside each other (a wrapper's update calls its inner
# rule's): only the outermost one may donate, since a wrapper may still read the params it
# passed to its inner rule (schedule-free reads y after the inner step)
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("refopt_update_depth", default=0)


def get_execution() -> Execution:
    """The current execution mode: ``"fused"``, ``"readable"`` or ``"compiled"``."""
    return _MODE.get()  # type: ignore[return-value]


def set_execution(mode: Execution) -> None:
    """Set the execution mode for the current context (thread / task)."""
    _MODE.set(_check(mode))


def get_donation() -> bool:
    """Whether fused updates may write into the params and state they were given."""
    return _DONATE.get()


def update_depth() -> int:
    """How many refopt rule updates are running inside each other here (0 outside any)."""
    return _DEPTH.get()


def donation_allowed() -> bool:
    """Donation is on and the kernel belongs to the outermost rule update (see base)."""
    return _DONATE.get() and _DEPTH.get() == 1


@contextlib.contextmanager
def update_scope(donate: bool) -> Iterator[None]:
    """One rule update (entered by every refopt rule's update under donation); ``donate=False``
    switches donation off for it and everything it calls."""
    token = _DEPTH.set(_DEPTH.get() + 1)
    token_d = _DONATE.set(_DONATE.get() and donate)
    try:
        yield
    finally:
        _DONATE.reset(token_d)
        _DEPTH.reset(token)

@contextlib.contextmanager
def execution(mode: Execution, *, donate: bool = False) -> Iterator[None]:
    """Run the body under ``mode`` (and buffer donation if ``donate``), restoring both after."""
    if not isinstance(donate, bool):
        raise TypeError(f"donate must be True or False, got {donate!r}")
    token = _MODE.set(_check(mode))
    token_d = _DONATE.set(donate)
    try:
        yield
    finally:
        _DONATE.reset(token_d)
        _MODE.reset(token)


def release_buffers() -> None:
    """Let go of the output buffers the fused NumPy paths keep for reuse.

    A pure fused update allocates its results from a pool that hands a buffer out again only
    once no array anywhere refers to it (:mod:`refopt._buffers`), which spares the page faults
    of fresh large allocations; between steps the pool holds about one step's outputs. Call
    this after training to return that memory at once (it is otherwise let go after a few
    updates that do not reuse it). Arrays still in use are not affected.
    """
    from refopt import _buffers
    _buffers.release()
