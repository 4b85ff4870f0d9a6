"""Benchmark: refopt against peers in one run, as ratios (``python -m refopt.bench``).

1. One Adam update on n float64 parameters (one array): refopt (NumPy backend), a hand-written
   in-place NumPy Adam, torch.optim.Adam (single-tensor and foreach), and optax.adam under
   ``jax.jit`` — whichever of torch / jax is installed.
2. One MLP training step (forward + hand-written backward + Adam update) against the same step
   with torch autograd and torch.optim.Adam, float64 on the CPU.

Each timing is the median of repeated runs after a warm-up. Ratios > 1 mean the peer is faster.
Wall-clock numbers are never asserted in tests; this command only reports them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import refopt
from refopt.nn import MLP


def _median_time(fn: Callable[[], None], repeat: int) -> float:
    fn()  # warm-up (allocations, JIT)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_adam(n: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    p0, g = rng.standard_normal(n), rng.standard_normal(n)
    out = {}

    opt = refopt.adam(lr=1e-3)
    box = {"p": p0, "s": opt.init(p0)}

    def ours():
        box["p"], box["s"] = opt.update(g, box["s"], box["p"])
    out["refopt (numpy)"] = _median_time(ours, repeat)

    p, m, v, t = p0.copy(), np.zeros(n), np.zeros(n), [0]

    def plain():
        t[0] += 1
        m.__imul__(0.9)
        m.__iadd__(0.1 * g)
        v.__imul__(0.999)
        v.__iadd__(0.001 * g * g)
        denom = np.sqrt(v / (1 - 0.999 ** t[0]))
        denom += 1e-8
        p.__isub__((1e-3 / (1 - 0.9 ** t[0])) * m / denom)
    out["numpy in-place"] = _median_time(plain, repeat)

    try:
        import torch
        for foreach in (False, True):
            tp = torch.tensor(p0)
            tp.grad = torch.tensor(g)
            topt = torch.optim.Adam([tp], lr=1e-3, foreach=foreach)
            out[f"torch.optim.Adam{' foreach' if foreach else ''}"] = _median_time(topt.step, repeat)
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import optax
        jopt = optax.adam(1e-3)
        jp, jg = jax.numpy.asarray(p0), jax.numpy.asarray(g)
        jbox = {"p": jp, "s": jopt.init(jp)}

        @jax.jit
        def jstep(p, s):
            u, s = jopt.update(jg, s, p)
            return optax.apply_updates(p, u), s

        def jrun():
            jbox["p"], jbox["s"] = jstep(jbox["p"], jbox["s"])
            jbox["p"].block_until_ready()
        out["optax.adam (jit)"] = _median_time(jrun, repeat)
    except ImportError:
        pass
    return out


def bench_mlp(batch: int, sizes: list[int], repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((batch, sizes[0])), rng.integers(0, sizes[-1], batch)
    net = MLP(sizes, activation="relu")
    opt = refopt.adam(lr=1e-3)
    box = {"p": net.init(0)}
    box["s"] = opt.init(box["p"])

    def ours():
        _, grads = net.loss_and_grad(box["p"], x, y)
        box["p"], box["s"] = opt.update(grads, box["s"], box["p"])
    out = {"refopt MLP (numpy, manual backward)": _median_time(ours, repeat)}
    try:
        import torch
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(a, b, dtype=torch.float64), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        topt = torch.optim.Adam(model.parameters(), lr=1e-3)
        tx, ty = torch.tensor(x), torch.tensor(y)

        def theirs():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(model(tx), ty).backward()
            topt.step()
        out["torch autograd + Adam"] = _median_time(theirs, repeat)
    except ImportError:
        pass
    return out


def _report(title: str, timings: dict[str, float]) -> None:
    base = next(iter(timings.values()))
    print(title)
    for name, t in timings.items():
        print(f"  {name:<38}{t * 1e3:>10.3f} ms   refopt/peer = {base / t:6.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="parameters for the Adam benchmark")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(1)  # compare single-threaded kernels with NumPy's
    except ImportError:
        pass
    _report(f"Adam update, {args.n:,} float64 parameters (median of {args.repeat})",
            bench_adam(args.n, args.repeat))
    _report(f"MLP training step [64, 256, 256, 10], batch 256, float64 (median of {args.repeat})",
            bench_mlp(256, [64, 256, 256, 10], args.repeat))


if __name__ == "__main__":
    main()
