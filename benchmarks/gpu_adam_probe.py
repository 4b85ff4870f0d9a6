"""The GPU probe quoted in docs/performance.md (run on an H100 on 2026-11-23, before the device
was withdrawn from this task).

refopt's Adam, fused on CuPy, against ``torch.optim.Adam(fused=True)`` and the bandwidth floor
(a device copy moving 7·n·itemsize bytes, read + written), timed with CUDA events (median of
50); then the host-side cost of one tiny update and its profile. ``python -m refopt.bench
--backend cupy`` measures the same, and every rule, when a GPU is at hand.
"""

from __future__ import annotations

import cProfile
import pstats
import time

import cupy as cp
import numpy as np
import torch

import refopt


def events_ms(fn, rep: int = 50) -> float:
    fn()
    cp.cuda.Device().synchronize()
    start, end = cp.cuda.Event(), cp.cuda.Event()
    times = []
    for _ in range(rep):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end))
    return float(np.median(times))


def host_ms(fn, rep: int = 200) -> float:
    fn()
    cp.cuda.Device().synchronize()
    t0 = time.perf_counter()
    for _ in range(rep):
        fn()
    cp.cuda.Device().synchronize()
    return (time.perf_counter() - t0) / rep * 1e3


def main() -> None:
    rng = np.random.default_rng(0)
    for n in (10**6, 10**8):
        for dt in (np.float32, np.float64):
            p = cp.asarray(rng.standard_normal(n).astype(dt))
            g = cp.asarray(rng.standard_normal(n).astype(dt))
            opt = refopt.adam(lr=1e-3)
            box = {"p": p, "s": opt.init(p)}

            def ours(box=box, opt=opt, g=g):
                box["p"], box["s"] = opt.update(g, box["s"], box["p"])

            t_f, h_f = events_ms(ours), host_ms(ours, 50 if n > 10**7 else 500)
            tp = torch.as_tensor(p, device="cuda").clone()
            tp.grad = torch.as_tensor(g, device="cuda").clone()
            to = torch.optim.Adam([tp], lr=1e-3, fused=True)
            t_t, h_t = events_ms(to.step), host_ms(to.step, 50 if n > 10**7 else 500)
            src = cp.empty((7 * n) // 2, dt)   # a copy moves each byte twice (read + write)
            dst = cp.empty_like(src)
            t_floor = events_ms(lambda src=src, dst=dst: cp.copyto(dst, src))
            print(f"n={n:.0e} {dt.__name__}: fused {t_f:.3f} ms (host loop {h_f:.3f})  "
                  f"torch fused {t_t:.3f} ms (host loop {h_t:.3f})  floor {t_floor:.3f} ms -> "
                  f"fused/torch {t_f / t_t:.2f}, floor/fused {t_floor / t_f:.2f}")
    p, g = cp.ones(1000, cp.float32), cp.ones(1000, cp.float32)
    opt = refopt.adam(lr=1e-3)
    s = opt.init(p)

    def tiny():
        opt.update(g, s, p)

    print("tiny update host us:", host_ms(tiny, 2000) * 1e3)
    profile = cProfile.Profile()
    profile.runcall(lambda: [tiny() for _ in range(2000)])
    pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
