"""One MLP training step: refopt's manual backward + Adam vs torch autograd + torch Adam.

Both sides compute the same function — the same layer shapes, activation, identity output,
mean softmax cross-entropy and dtype — from the same initial weights (refopt's W is copied into
``torch.nn.Linear`` as Wᵀ), and the first losses are reported side by side as the check.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

import refopt
from refopt.bench import peers
from refopt.bench.rules import executions
from refopt.nn import MLP


class MLPCase(NamedTuple):
    sizes: tuple[int, ...]
    activation: str
    batch: int
    dtype: str


CPU_CASE = MLPCase((64, 256, 256, 10), "relu", 256, "float64")
GPU_CASE = MLPCase((4096, 4096, 4096, 4096, 4096), "tanh", 4096, "float32")
QUICK_CASE = MLPCase((8, 16, 16, 4), "relu", 16, "float64")


def describe(case: MLPCase) -> str:
    return f"{list(case.sizes)} {case.activation}, batch {case.batch}, {case.dtype}"


def _to_host(x: Any) -> np.ndarray:
    return x.get() if hasattr(x, "get") else np.asarray(x)


def bench_mlp(backend: Any, case: MLPCase, repeat: int) -> dict:
    xp, h = backend.xp, peers.adam_hyper()
    rng = np.random.default_rng(0)
    host_x = rng.standard_normal((case.batch, case.sizes[0])).astype(case.dtype)
    host_y = rng.integers(0, case.sizes[-1], case.batch)
    x, y = backend.asarray(host_x), backend.asarray(host_y)
    net = MLP(list(case.sizes), activation=case.activation)
    params0 = net.init(0, xp=xp, dtype=getattr(xp, case.dtype))
    opt = refopt.adam(lr=h.lr, beta1=h.beta1, beta2=h.beta2, eps=h.eps)
    out: dict[str, Any] = {"case": describe(case), "refopt_loss0": float(net.loss_and_grad(params0, x, y)[0])}
    for mode in executions(backend):
        box = {"p": params0, "s": opt.init(params0)}

        def ours() -> None:
            _, grads = net.loss_and_grad(box["p"], x, y)
            box["p"], box["s"] = opt.update(grads, box["s"], box["p"])
        with refopt.execution(mode):
            out[f"refopt_{mode}_ms"] = 1e3 * backend.time(ours, repeat)
        box.clear()
        backend.free()
    try:
        import torch
    except ImportError as err:
        out["skipped"] = {"name": "torch", "reason": f"ImportError: {err}"}
        return out
    if backend.on_gpu and not torch.cuda.is_available():
        out["skipped"] = {"name": "torch", "reason": "this torch build sees no CUDA device"}
        return out
    device = "cuda" if backend.on_gpu else "cpu"
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[case.activation]
    layers: list[Any] = []
    for layer in params0:
        lin = torch.nn.Linear(*layer["W"].shape, dtype=getattr(torch, case.dtype), device=device)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(_to_host(layer["W"]).T))
            lin.bias.copy_(torch.tensor(_to_host(layer["b"])))
        layers += [lin, act()]
    model = torch.nn.Sequential(*layers[:-1])   # identity output, as refopt's MLP
    impl = {"fused": True} if backend.on_gpu else {"foreach": True}
    topt = torch.optim.Adam(model.parameters(), lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps, **impl)
    tx, ty = torch.tensor(host_x, device=device), torch.tensor(host_y, device=device)
    with torch.no_grad():
        out["torch_loss0"] = float(torch.nn.functional.cross_entropy(model(tx), ty))

    def theirs() -> None:
        topt.zero_grad()
        torch.nn.functional.cross_entropy(model(tx), ty).backward()
        topt.step()
    out["torch_impl"] = f"autograd + Adam {next(iter(impl))}"
    if backend.on_gpu:   # float32 GEMMs in full precision on both sides unless these say otherwise
        out["tf32"] = {"torch.backends.cuda.matmul.allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
                       "CUPY_TF32": os.environ.get("CUPY_TF32", "0")}
    out["torch_ms"] = 1e3 * backend.time(theirs, repeat)
    for mode in executions(backend):
        out[f"refopt_{mode}_over_torch"] = out[f"refopt_{mode}_ms"] / out["torch_ms"]
    out["gemms"] = _gemms(backend, case, repeat, torch, device)
    return out


def _gemms(backend: Any, case: MLPCase, repeat: int, torch: Any, device: str) -> dict:
    """The step's matrix products alone, in each library: z = hW, dW = hᵀdz and (except at the
    first layer) dh = dz Wᵀ per layer — how much of the step's difference is the BLAS's."""
    rng = np.random.default_rng(2)
    shapes = []   # (left, right) operand shapes as the step multiplies them
    for i, (d_in, d_out) in enumerate(zip(case.sizes[:-1], case.sizes[1:])):
        shapes += [((case.batch, d_in), (d_in, d_out)), ((d_in, case.batch), (case.batch, d_out))]
        if i:
            shapes.append(((case.batch, d_out), (d_out, d_in)))
    host = [(rng.standard_normal(a).astype(case.dtype), rng.standard_normal(b).astype(case.dtype))
            for a, b in shapes]
    ours = [(backend.asarray(a), backend.asarray(b)) for a, b in host]
    theirs = [(torch.tensor(a, device=device), torch.tensor(b, device=device)) for a, b in host]
    refopt_ms = 1e3 * backend.time(lambda: [a @ b for a, b in ours], repeat)
    torch_ms = 1e3 * backend.time(lambda: [a @ b for a, b in theirs], repeat)
    return {"products": len(shapes), "refopt_ms": refopt_ms, "torch_ms": torch_ms,
            "refopt_over_torch": refopt_ms / torch_ms}
