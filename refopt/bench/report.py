"""The benchmark's environment record and its plain-text tables."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
from typing import Any

_PACKAGES = ("refopt", "numpy", "numba", "cupy", "cupy-cuda12x", "cupy-cuda13x", "torch", "jax", "jaxlib",
             "optax", "threadpoolctl")

_ENV_PREFIXES = ("OMP_", "OPENBLAS_", "MKL_", "MALLOC_", "XLA_", "JAX_", "REFOPT_", "CUPY_",
                 "CUDA_VISIBLE_DEVICES", "NVIDIA_TF32")


def environment(backend: Any, settings: dict) -> dict:
    versions = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    from refopt.bench.backend import cpu_model
    hardware = {"cpu": cpu_model(), "machine": platform.machine()}
    if backend.on_gpu:
        hardware["gpu"] = backend.device_name()
        versions["cuda_runtime"] = str(backend.xp.cuda.runtime.runtimeGetVersion())
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # variables that change what is measured (threads, allocator, XLA, execution mode, TF32)
    env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(_ENV_PREFIXES)}
    return {"date": date, "hardware": hardware, "versions": versions,
            "settings": {**settings, "environment": env}}


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """Columns right-aligned except the first; floats with 3 significant decimals."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 1e4 else f"{v:.3g}"
        return str(v)
    text = [[cell(v) for v in r] for r in [headers, *rows]]
    widths = [max(len(r[i]) for r in text) for i in range(len(headers))]
    lines = []
    for k, r in enumerate(text):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def header_text(env: dict) -> str:
    hw = env["hardware"]
    v = env["versions"]
    s = env["settings"]
    where = hw.get("gpu", hw["cpu"]) + ("" if "gpu" not in hw else f" (host CPU {hw['cpu']})")
    libs = ", ".join(f"{k} {val}" for k, val in v.items())
    return (f"refopt benchmark, {env['date']}\nhardware: {where}\nversions: {libs}\n"
            f"backend {s['backend']}, median of {s['repeat']} calls after {s['warmup']} warm-up(s); "
            f"threads: {s['threads']}"
            + "".join(f"\n{k}={v}" for k, v in s["environment"].items()))


def _modes(block: dict, key: str) -> list[str]:
    """The modes this block measured, in the benchmark's order."""
    from refopt.bench.rules import MODE_SETTINGS
    return [m for m in MODE_SETTINGS if key.format(m) in block]


def rules_text(block: dict) -> str:
    modes = _modes(block["rows"][0], "{}_ms") if block["rows"] else ["fused", "readable"]
    rows = [[r["rule"], round((r["bytes_read"] + r["bytes_written"]) / block["n"] / block["itemsize"], 2),
             r["floor_ms"], *(r[f"{m}_ms"] for m in modes),
             *(r[f"{m}_fraction_of_floor"] for m in modes), r["fused_speedup"]] for r in block["rows"]]
    head = (f"Per-rule update, {block['n']:,} {block['dtype']} parameters (one leaf), "
            "times in ms")
    return head + "\n" + table(["rule", "moved/(n·size)", "floor", *modes,
                                *(f"{m}/floor" for m in modes), "readable÷fused"], rows)


_LABEL = {"fused": "fused", "readable": "readable", "donated": "fused, donate=True",
          "compiled": "compiled", "compiled+donated": "compiled, donate=True"}


def peers_text(block: dict) -> str:
    modes = _modes(block, "refopt_{}_ms")
    rows = [[f"refopt.adam {_LABEL[m]}", block[f"refopt_{m}_ms"],
             *(1.0 if m == n else "" for n in modes)] for m in modes]
    rows += [[p["name"], p["ms"], *(p[f"refopt_{m}_over_peer"] for m in modes)]
             for p in block["peers"]]
    out = (f"Adam update, {block['n']:,} {block['dtype']} parameters (one leaf), ms; "
           f"refopt/peer > 1: the peer is faster\n")
    out += table(["implementation", "ms", *(f"refopt/peer ({m})" for m in modes)], rows)
    for s in block["skipped"]:
        out += f"\n  skipped {s['name']}: {s['reason']}"
    return out


def many_leaves_text(block: dict) -> str:
    rows = [[mode, block[mode]["many_leaves_ms"], block[mode]["one_leaf_ms"], block[mode]["ratio"]]
            for mode in _modes(block, "{}")]
    return (f"Adam on {block['leaves']} MLP-shaped leaves vs one leaf, {block['n']:,} "
            f"{block['dtype']} numbers, ms (target ratio ≤ 1.2)\n"
            + table(["execution", f"{block['leaves']} leaves", "1 leaf", "ratio"], rows))


def mlp_text(block: dict) -> str:
    rows = [[f"refopt manual backward + adam ({mode})", block[f"refopt_{mode}_ms"],
             block.get(f"refopt_{mode}_over_torch", "")] for mode in _modes(block, "refopt_{}_ms")]
    if "torch_ms" in block:
        rows.append([f"torch {block['torch_impl']}", block["torch_ms"], 1.0])
    out = (f"MLP training step {block['case']}, ms; refopt/peer > 1: torch is faster\n"
           + table(["implementation", "ms", "refopt/peer"], rows))
    if "torch_loss0" in block:
        out += f"\n  first loss: refopt {block['refopt_loss0']:.10g}, torch {block['torch_loss0']:.10g}"
    if "gemms" in block:
        g = block["gemms"]
        out += (f"\n  the step's {g['products']} matrix products alone: refopt's array library "
                f"{g['refopt_ms']:.3f} ms, torch {g['torch_ms']:.3f} ms (ratio {g['refopt_over_torch']:.3f})")
    return out
