"""Where a benchmark runs: NumPy on the CPU or CuPy on a GPU — arrays, synchronisation, timing.

CuPy is imported only when the ``"cupy"`` backend is asked for, so this module imports without it.

**Timing.** Every measurement is the median over ``repeat`` calls after ``warmup`` calls (2 by
default; they pay for allocation, tracing and compilation). On the CPU a call is timed with
``time.perf_counter``. On the GPU the device is synchronised before each call, CUDA events are
recorded on the null stream around it and the device is synchronised again; CuPy and torch both
launch on that stream (torch's default stream is the legacy null stream), and peers that launch
elsewhere (JAX) block on their result inside the call, so the end event is recorded after their
work. Events count the GPU time between launch of the first and end of the last kernel *including*
the gaps in which the GPU waits for Python to launch the next one: the host overhead of a rule is
part of its cost, as it is in a training loop.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

BackendName = Literal["numpy", "cupy"]


class Backend:
    """The array module of one run and how to time work on it."""

    def __init__(self, name: BackendName, warmup: int = 2):
        if name not in ("numpy", "cupy"):
            raise ValueError(f"backend must be one of ['numpy', 'cupy'], got {name!r}")
        self.name = name
        if name == "cupy":
            import cupy  # optional (the gpu extra); only this backend needs it
            self.xp: Any = cupy
        else:
            self.xp = np
        self.warmup = warmup

    @property
    def on_gpu(self) -> bool:
        return self.name == "cupy"

    def asarray(self, host: np.ndarray) -> Any:
        """A copy of a host array on this backend's device."""
        return self.xp.asarray(host) if self.on_gpu else host.copy()

    def sync(self) -> None:
        if self.on_gpu:
            self.xp.cuda.Device().synchronize()

    def free(self) -> None:
        """Give cached device memory back between rules (a 1e8 rule's state is gigabytes)."""
        if self.on_gpu:
            self.sync()
            self.xp.get_default_memory_pool().free_all_blocks()

    def time(self, fn: Callable[[], Any], repeat: int) -> float:
        """Median seconds of one call of ``fn`` (see the module docstring for the method)."""
        for _ in range(self.warmup):
            fn()
        self.sync()
        times = []
        if self.on_gpu:
            cuda = self.xp.cuda
            start, end = cuda.Event(), cuda.Event()
            null = cuda.Stream.null
            for _ in range(repeat):
                self.sync()
                start.record(null)
                fn()
                end.record(null)
                end.synchronize()
                self.sync()
                times.append(cuda.get_elapsed_time(start, end) / 1e3)
        else:
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        return statistics.median(times)

    def copy_time(self, nbytes: int, repeat: int) -> float:
        """Median seconds of copying a buffer of ``nbytes`` bytes into another on this device.

        A copy reads ``nbytes`` and writes ``nbytes``: it moves ``2 · nbytes`` bytes through memory.
        """
        if nbytes < 1:
            raise ValueError(f"nbytes must be a positive integer, got {nbytes!r}")
        xp = self.xp
        src = xp.ones(nbytes, dtype=xp.uint8)
        dst = xp.empty_like(src)
        seconds = self.time(lambda: xp.copyto(dst, src), repeat)
        src = dst = None   # give the buffers back before the next measurement
        self.free()
        return seconds

    def device_name(self) -> str:
        if self.on_gpu:
            props = self.xp.cuda.runtime.getDeviceProperties(self.xp.cuda.Device().id)
            name = props["name"]
            return name.decode() if isinstance(name, bytes) else str(name)
        return cpu_model()


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    import platform
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
