"""Adam beside its peers, and Adam on a 50-leaf MLP-shaped tree beside one leaf of the same size."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import refopt
from refopt.bench import peers
from refopt.bench.rules import executions, time_updates

TORCH_IMPLS = ("single-tensor", "foreach", "fused")


def modes(backend: Any) -> tuple[str, ...]:
    """Adam and the many-leaves case also time buffer donation (execution(..., donate=True)) on
    the CPU, where a fresh output is written without being read first; CuPy never donates."""
    pure = executions(backend)
    if backend.on_gpu:
        return pure
    return (*pure, "donated", *(("compiled+donated",) if "compiled" in pure else ()))


def _measure(backend: Any, build: Callable[[], peers.Peer], repeat: int) -> tuple[float | None, str]:
    """(ms, "") or (None, why): a peer that cannot run here (ImportError, RuntimeError) or that
    breaks while compiling or running (a CuPy compile error, an out-of-memory) is reported as
    skipped with its error, and the other peers are still measured."""
    try:
        return 1e3 * backend.time(build().step, repeat), ""
    except Exception as err:
        return None, f"{type(err).__name__}: {err}"
    finally:
        backend.free()


def bench_peers(backend: Any, host_p: np.ndarray, host_g: np.ndarray, repeat: int) -> dict:
    """refopt's Adam (fused and readable) and every peer that runs here, on the same θ₀ and g."""
    h = peers.adam_hyper()
    p, g = backend.asarray(host_p), backend.asarray(host_g)
    opt = refopt.adam(lr=h.lr, beta1=h.beta1, beta2=h.beta2, eps=h.eps)
    out: dict[str, Any] = {"n": int(host_p.size), "dtype": str(host_p.dtype), "hyper": h._asdict()}
    for mode in modes(backend):
        out[f"refopt_{mode}_ms"] = 1e3 * time_updates(backend, opt, p, g, repeat, mode)
    builders: list[tuple[str, Callable[[], Any]]] = []
    if backend.on_gpu:
        builders.append(("cupy.fuse (hand-written)", lambda: peers.cupy_fuse(p, g, h)))
    else:
        builders.append(("numpy in-place (hand-written)", lambda: peers.numpy_inplace(host_p, host_g, h)))
    for impl in TORCH_IMPLS:
        builders.append((f"torch.optim.Adam {impl}",
                         lambda impl=impl: peers.torch_adam(host_p, host_g, h, impl, backend.on_gpu)))
    try:   # the row says where XLA ran: on a GPU run without a GPU jaxlib it is the CPU
        optax_name = f"optax.adam jit ({peers.jax_platform(backend.on_gpu)})"
    except ImportError:
        optax_name = "optax.adam jit"
    builders.append((optax_name, lambda: peers.optax_adam(host_p, host_g, h, backend.on_gpu)))
    out["peers"], out["skipped"] = [], []
    for name, build in builders:
        ms, why = _measure(backend, build, repeat)
        if ms is None:
            out["skipped"].append({"name": name, "reason": why})
        else:
            out["peers"].append({"name": name, "ms": ms})
    for row in out["peers"]:   # > 1: the peer is faster
        for mode in modes(backend):
            row[f"refopt_{mode}_over_peer"] = out[f"refopt_{mode}_ms"] / row["ms"]
    return out


def mlp_shaped(n: int, layers: int = 25) -> list[tuple[int, ...]]:
    """Leaf shapes of ``layers`` square dense layers, W (d, d) and b (d,), about n in total."""
    d = max(1, int(math.sqrt(n / layers)))
    return [s for _ in range(layers) for s in ((d, d), (d,))]


def bench_many_leaves(backend: Any, n: int, dtype: str, repeat: int) -> dict:
    """Adam on a list of 25 {W, b} dicts (50 leaves) vs one leaf holding as many numbers."""
    rng = np.random.default_rng(1)
    shapes = mlp_shaped(n)
    total = sum(math.prod(s) for s in shapes)
    host = [rng.standard_normal(s).astype(dtype) for s in shapes]
    many_p = [{"W": backend.asarray(host[i]), "b": backend.asarray(host[i + 1])}
              for i in range(0, len(host), 2)]
    many_g = [{"W": backend.asarray(0.5 * host[i]), "b": backend.asarray(0.5 * host[i + 1])}
              for i in range(0, len(host), 2)]
    one_p = backend.asarray(rng.standard_normal(total).astype(dtype))
    one_g = backend.asarray(rng.standard_normal(total).astype(dtype))
    opt = refopt.adam(lr=peers.adam_hyper().lr)
    out: dict[str, Any] = {"n": total, "dtype": dtype, "leaves": len(shapes),
                           "leaf_shapes": [list(s) for s in shapes[:2]]}
    for mode in modes(backend):
        many = 1e3 * time_updates(backend, opt, many_p, many_g, repeat, mode)
        one = 1e3 * time_updates(backend, opt, one_p, one_g, repeat, mode)
        out[mode] = {"many_leaves_ms": many, "one_leaf_ms": one, "ratio": many / one}
    return out
