"""The same Adam step written by others, on the same arrays: the peers refopt is measured against.

Every peer does the same math as ``refopt.adam`` with the registry's first configuration —
θ ← θ − η (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε), same η, β₁, β₂, ε and float dtype, on the backend's
device — so a ratio compares implementations, not rules. Each builder returns a :class:`Peer`:
a zero-argument ``step`` (it advances its own θ, m, v with the current gradient), ``params``
(θ now, as a NumPy array) and ``set_grad`` (the gradient of the next steps, from a NumPy array) —
the tests drive a peer and refopt through the same gradients and compare θ — or raises
``ImportError`` / ``RuntimeError`` with the reason it cannot run here; the caller lists those
as skipped.
"""

from __future__ import annotations

import inspect
import math
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from refopt.optim.adam import adam
from refopt.registry import SPECS


class Peer(NamedTuple):
    step: Callable[[], Any]
    params: Callable[[], np.ndarray]
    set_grad: Callable[[np.ndarray], None]


class AdamHyper(NamedTuple):
    lr: float
    beta1: float
    beta2: float
    eps: float


def adam_hyper() -> AdamHyper:
    """η from the registry's first Adam configuration, β₁, β₂, ε from ``refopt.adam``'s defaults."""
    defaults = {k: p.default for k, p in inspect.signature(adam).parameters.items()}
    config = {**defaults, **SPECS["adam"].configs[0]}
    return AdamHyper(float(config["lr"]), float(config["beta1"]), float(config["beta2"]),
                     float(config["eps"]))


def numpy_inplace(p0: np.ndarray, g: np.ndarray, h: AdamHyper) -> Peer:
    """Hand-written NumPy Adam: θ, m, v updated in place with one scratch buffer (no temporaries)."""
    p, m, v, tmp, t = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), np.empty_like(p0), [0]
    g = g.copy()
    dt = p0.dtype.type

    def step() -> None:
        t[0] += 1
        np.multiply(g, dt(1 - h.beta1), out=tmp)
        m.__imul__(dt(h.beta1))
        m.__iadd__(tmp)
        np.multiply(g, g, out=tmp)
        tmp.__imul__(dt(1 - h.beta2))
        v.__imul__(dt(h.beta2))
        v.__iadd__(tmp)
        np.sqrt(v, out=tmp)
        tmp.__imul__(dt(1 / math.sqrt(1 - h.beta2 ** t[0])))     # √v̂ = √v / √(1−β₂ᵗ)
        tmp.__iadd__(dt(h.eps))
        np.divide(m, tmp, out=tmp)
        tmp.__imul__(dt(h.lr / (1 - h.beta1 ** t[0])))
        p.__isub__(tmp)
    return Peer(step, p.copy, lambda new: np.copyto(g, new))


def cupy_fuse(p0: Any, g: Any, h: AdamHyper) -> Peer:
    """Hand-written Adam as one ``cupy.fuse`` kernel; per-step scalars are kernel arguments."""
    import cupy

    @cupy.fuse()
    def kernel(p, g, m, v, b1, b2, one_m_b1, one_m_b2, step_size, inv_sqrt_bc2, eps):
        m = b1 * m + one_m_b1 * g
        v = b2 * v + one_m_b2 * (g * g)
        return p - step_size * m / (cupy.sqrt(v) * inv_sqrt_bc2 + eps), m, v

    s = {"p": p0.copy(), "g": g, "m": cupy.zeros_like(p0), "v": cupy.zeros_like(p0), "t": 0}
    dt = np.dtype(p0.dtype).type   # scalars in the arrays' dtype: no promotion to float64

    def step() -> None:
        s["t"] += 1
        t = s["t"]
        s["p"], s["m"], s["v"] = kernel(
            s["p"], s["g"], s["m"], s["v"], dt(h.beta1), dt(h.beta2), dt(1 - h.beta1), dt(1 - h.beta2),
            dt(h.lr / (1 - h.beta1 ** t)), dt(1 / math.sqrt(1 - h.beta2 ** t)), dt(h.eps))
    return Peer(step, lambda: cupy.asnumpy(s["p"]), lambda new: s.update(g=cupy.asarray(new)))


def torch_adam(host_p: np.ndarray, host_g: np.ndarray, h: AdamHyper, impl: str,
               cuda: bool) -> Peer:
    """``torch.optim.Adam`` with ``impl`` = ``"single-tensor"``, ``"foreach"`` or ``"fused"``."""
    import torch
    if impl == "fused" and not cuda:
        raise RuntimeError("fused is measured on CUDA only")
    if cuda and not torch.cuda.is_available():
        raise RuntimeError("this torch build sees no CUDA device")
    device = "cuda" if cuda else "cpu"
    tp = torch.tensor(host_p, device=device)
    tp.grad = torch.tensor(host_g, device=device)
    flags = {"single-tensor": {"foreach": False}, "foreach": {"foreach": True},
             "fused": {"fused": True}}[impl]
    opt = torch.optim.Adam([tp], lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps, **flags)
    def read() -> np.ndarray:
        return tp.detach().cpu().numpy().copy()

    def set_grad(new: np.ndarray) -> None:
        tp.grad.copy_(torch.tensor(new, device=device))
    if cuda and torch.cuda.current_stream().cuda_stream != 0:
        def step() -> None:   # not on the null stream the timer's events are recorded on
            opt.step()
            torch.cuda.synchronize()
        return Peer(step, read, set_grad)
    return Peer(opt.step, read, set_grad)


def prepare_jax() -> None:
    """Before JAX starts: no GPU memory preallocation (CuPy and torch share the device), and one
    CPU thread for XLA's element-wise work (the CPU comparison is single-threaded)."""
    if "jax" not in sys.modules:
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        os.environ.setdefault("XLA_FLAGS",
                              "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")


def optax_adam(host_p: np.ndarray, host_g: np.ndarray, h: AdamHyper, want_gpu: bool) -> Peer:
    """``optax.adam`` + ``apply_updates`` under ``jax.jit``, on the GPU if asked and JAX has one
    (else the CPU: :func:`jax_platform` says which)."""
    prepare_jax()
    import jax
    import optax
    if host_p.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    device = jax.devices(jax_platform(want_gpu))[0]
    opt = optax.adam(h.lr, b1=h.beta1, b2=h.beta2, eps=h.eps)
    p, g = jax.device_put(host_p, device), jax.device_put(host_g, device)
    if p.dtype != host_p.dtype:
        raise RuntimeError(f"jax made {p.dtype} of {host_p.dtype} (jax_enable_x64 off?)")

    @jax.jit
    def jstep(p, s, g):   # g an argument: a closed-over array would be baked into the program
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    # two throwaway steps: the second call still compiles (its inputs are the first's outputs)
    jax.block_until_ready(jstep(*jstep(p, opt.init(p), g), g))
    box = {"p": p, "s": opt.init(p), "g": g}

    def step() -> None:
        box["p"], box["s"] = jstep(box["p"], box["s"], box["g"])
        box["p"].block_until_ready()
    return Peer(step, lambda: np.asarray(box["p"]), lambda new: box.update(g=jax.device_put(new, device)))


def jax_platform(want_gpu: bool) -> str:
    """Where :func:`optax_adam` runs: ``"gpu"`` when asked and JAX has a GPU, else ``"cpu"``."""
    prepare_jax()
    import jax
    if want_gpu:
        try:
            if jax.devices("gpu"):
                return "gpu"
        except (RuntimeError, ValueError):   # this jaxlib has no GPU platform
            pass
    return "cpu"
