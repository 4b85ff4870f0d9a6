"""Fresh output arrays for the fused NumPy paths, recycled once nothing can reach them.

A pure update returns new arrays: at 10⁶ float64 parameters an Adam step allocates three 8 MB
arrays. Arrays that large are mapped from the operating system page by page, and the first
write to each page faults — on the development machine that cost as much as the arithmetic
(docs/performance.md). In a training loop the arrays of step t − 1 are dropped by the caller
while step t + 1 runs, so their memory can serve again, as a CUDA caching allocator (CuPy's
memory pool, PyTorch's) serves freed device memory again.

How "nothing can reach it" is known: every array handed out is a view of a base buffer kept
here, and any view of it, however derived (slices, reshapes, ``np.asarray``, a buffer held by
another library through the buffer protocol), holds a reference to that base. A base whose only
references are this pool's is unreachable, and only such a base is handed out again. Results
are never written while anyone can see them, so updates stay pure.

Memory: a base not handed out for ``STALE`` ticks is let go (freed, if nobody holds a view), so
the pool keeps about one step's outputs between steps — no more than a pure update holds at its
peak anyway. :func:`release` lets all of them go at once. Arrays under ``MIN_BYTES`` come
from ``numpy.empty`` directly: the allocator reuses small blocks without faulting.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import deque
from typing import Any

import numpy as np

#: arrays smaller than this many bytes are not pooled (no page faults to save)
MIN_BYTES = 1 << 18
#: a base not handed out during this many ticks (one per fused rule update, one per pooled
#: matrix product or activation of refopt.nn) is let go
STALE = 64
# how many pooled bases one request looks at before allocating a new one
_SCAN = 8

_lock = threading.Lock()
_pool: dict[tuple[str, int], deque[list[Any]]] = {}   # (dtype, size) -> [[base, tick], ...]
_tick = 0


def _refs(entry: list[Any]) -> int:
    return sys.getrefcount(entry[0])


# references of a base held only by its pool entry: measured, not assumed
_ALONE = _refs([np.empty(1), 0])
# the reference count is an exact "who can reach it" test only with the GIL: a free-threaded
# build (3.13t) defers and biases counts, so there every output is a fresh array
_POOLING = getattr(sys, "_is_gil_enabled", lambda: True)()


def tick() -> None:
    """One fused update begins (the pool's clock for letting stale bases go)."""
    global _tick
    _tick += 1
    if _tick % STALE == 0:   # let go of stale bases that no request has looked at
        with _lock:
            for key, queue in list(_pool.items()):
                kept = deque(e for e in queue if _tick - e[1] <= STALE)
                if kept:
                    _pool[key] = kept
                else:
                    del _pool[key]


def empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype`` that no one else can see."""
    if not isinstance(dtype, np.dtype):
        dtype = np.dtype(dtype)
    size = math.prod(shape)
    if size * dtype.itemsize < MIN_BYTES or not _POOLING:
        return np.empty(shape, dtype)
    key = (dtype.str, size)
    with _lock:
        queue = _pool.setdefault(key, deque())
        for _ in range(min(_SCAN, len(queue))):
            entry = queue.popleft()
            if _tick - entry[1] > STALE:
                continue                   # let it go
            queue.append(entry)
            if _refs(entry) == _ALONE:
                entry[1] = _tick
                return entry[0].reshape(shape)
        base = np.empty(size, dtype)
        queue.append([base, _tick])
        return base.reshape(shape)


def release() -> None:
    """Let every pooled base go (memory of arrays still in use stays with their users)."""
    with _lock:
        _pool.clear()


def pooled_bytes() -> int:
    """Bytes of the bases the pool holds (in use or not): for tests and the benchmark."""
    with _lock:
        return sum(e[0].nbytes for q in _pool.values() for e in q)


def matmul(a: Any, b: Any) -> Any:
    """``a @ b``; for two 2-d NumPy arrays written into a pooled buffer — the same BLAS call on
    the same operands (transposed views stay views), without a fresh (N, d) array per step."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2:
        tick()   # networks used without optimizer updates still age their buffers out
        return np.matmul(a, b, out=empty((a.shape[0], b.shape[1]), np.result_type(a, b)))
    return a @ b


def like(x: Any) -> Any:
    """A pooled uninitialised array shaped like the real floating NumPy array ``x``; None for
    anything else (the caller then lets its namespace allocate)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":
        tick()
        return empty(x.shape, x.dtype)
    return None
