"""Benchmark: refopt against the bandwidth floor and its peers, as ratios from one run.

``python -m refopt.bench [--backend numpy|cupy] [--dtype float32,float64] [--n 1e6 --n 1e7]
[--rules all|adam,sgd,...] [--json PATH] [--repeat R] [--quick]`` measures, for each dtype and n:

1. every chosen registry rule (its first configuration) on one leaf of n parameters, under
   ``refopt.execution("fused")`` and ``("readable")``, beside the bandwidth floor
   (:mod:`refopt.bench.rules`);
2. Adam beside torch.optim.Adam (single-tensor, foreach, fused on CUDA), optax.adam under
   ``jax.jit``, and a hand-written NumPy in-place Adam (CPU) or ``cupy.fuse`` kernel (GPU);
3. Adam on an MLP-shaped tree of 50 leaves beside one leaf of the same size;

and once, 4. an MLP training step (manual backward + Adam) beside torch autograd + torch Adam;
then the issue-12 targets that the run measured, each with its ratio (:mod:`refopt.bench.targets`).
On the CPU, NumPy's BLAS, torch and XLA run one thread each. Ratios > 1 mean the peer is faster.
Wall-clock numbers are never asserted in tests; this command only reports them. The columns
are explained in ``docs/performance.md``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from refopt.bench import adam_cases, mlp_step, report, rules, targets
from refopt.bench.backend import Backend
from refopt.bench.cli import parse


@contextlib.contextmanager
def one_thread(backend: Backend) -> Iterator[str]:
    """On the CPU: BLAS/OpenMP (threadpoolctl) and torch at one thread; restored afterwards."""
    if backend.on_gpu:
        yield "GPU run (host threads not limited)"
        return
    with contextlib.ExitStack() as stack:
        notes = []
        try:
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(limits=1))
            notes.append("BLAS/OpenMP 1 (threadpoolctl)")
        except ImportError:
            notes.append("BLAS not limited (threadpoolctl missing; set OMP_NUM_THREADS=1)")
        try:
            import torch
            old = torch.get_num_threads()
            torch.set_num_threads(1)
            stack.callback(torch.set_num_threads, old)
            notes.append("torch 1")
        except ImportError:
            pass
        adam_cases.peers.prepare_jax()
        notes.append("XLA CPU 1 (XLA_FLAGS, if jax starts in this run)")
        yield ", ".join(notes)


def _restore_jax_x64() -> Any:
    jax = sys.modules.get("jax")
    old = bool(jax.config.jax_enable_x64) if jax is not None else False
    def restore() -> None:
        if "jax" in sys.modules:
            sys.modules["jax"].config.update("jax_enable_x64", old)
    return restore


def _progress(items: list, label: str) -> Any:
    if len(items) <= 3:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=label, file=sys.stderr, leave=False)


def say(text: str) -> None:
    print(text, flush=True)   # a long GPU run is followed as it goes


def save(result: dict, path: str | None) -> None:
    """Write the numbers so far: a run stopped at a time limit keeps its finished sections."""
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=2)


def run(args: Any, backend: Backend, threads: str) -> dict:
    specs, skipped = rules.grad_rules(args.rule_names)
    settings = {"backend": backend.name, "repeat": args.repeat, "warmup": backend.warmup,
                "threads": threads, "quick": args.quick,
                "sizes": args.n, "dtypes": args.dtype, "sections": args.sections}
    result: dict[str, Any] = {**report.environment(backend, settings), "rules": [],
                              "skipped_rules": skipped, "rule_errors": [], "peers": [],
                              "many_leaves": [], "mlp": None}
    say(report.header_text(result))
    for dtype in args.dtype:
        for n in args.n:
            rng = np.random.default_rng(0)
            host_p, host_g = (rng.standard_normal(n).astype(dtype) for _ in range(2))
            if "rules" in args.sections:
                floor = rules.FloorCache(backend, args.repeat)
                p, g = backend.asarray(host_p), backend.asarray(host_g)
                block = {"n": n, "dtype": dtype, "itemsize": host_p.itemsize, "rows": []}
                result["rules"].append(block)
                for spec in _progress(specs, f"{dtype} n={n:,}"):
                    try:
                        block["rows"].append(rules.bench_rule(backend, spec, p, g, args.repeat, floor))
                    except Exception as err:  # a rule that fails at this size is reported, not fatal
                        result["rule_errors"].append({"rule": spec.name, "n": n, "dtype": dtype,
                                                      "reason": f"{type(err).__name__}: {err}"})
                        backend.free()
                    save(result, args.json)
                del p, g
                backend.free()
                say("\n" + report.rules_text(block))
            if "peers" in args.sections:
                result["peers"].append(adam_cases.bench_peers(backend, host_p, host_g, args.repeat))
                say("\n" + report.peers_text(result["peers"][-1]))
                save(result, args.json)
            if "many_leaves" in args.sections:
                result["many_leaves"].append(adam_cases.bench_many_leaves(backend, n, dtype, args.repeat))
                say("\n" + report.many_leaves_text(result["many_leaves"][-1]))
                save(result, args.json)
    if "mlp" in args.sections:
        case = (mlp_step.QUICK_CASE if args.quick
                else mlp_step.GPU_CASE if backend.on_gpu else mlp_step.CPU_CASE)
        result["mlp"] = mlp_step.bench_mlp(backend, case, args.repeat)
        say("\n" + report.mlp_text(result["mlp"]))
        save(result, args.json)
    result["targets"] = targets.check(result)
    if result["targets"]:
        say("\n" + targets.text(result["targets"]))
    for s in skipped:
        say(f"skipped {s['rule']}: {s['reason']}")
    for e in result["rule_errors"]:
        say(f"ERROR {e['rule']} ({e['dtype']}, n={e['n']:,}): {e['reason']}")
    return result


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print its tables, write ``--json`` if asked, and return the numbers."""
    args = parse(argv)
    backend = Backend(args.backend, warmup=1 if args.quick else 2)
    restore = _restore_jax_x64()
    try:
        with one_thread(backend) as threads:
            result = run(args, backend, threads)
    finally:
        restore()
    save(result, args.json)
    return result
