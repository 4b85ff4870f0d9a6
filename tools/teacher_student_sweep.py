"""Sweep Big Batch's non-convex empirical protocol over random draws of the teacher–student class.

Big Batch is the one rule whose non-convex claim is on the realisable teacher–student MLP (it needs
a finite sum). This sweep draws from the ranges of
:func:`refopt.testing.strategies.teacher_student_mlps` (d, h ≤ 3, 4 ≤ N ≤ 24) with the protocol's
filter (ℓ₀ ≥ 10⁻²), seeded so a run is repeatable::

    python -m tools.teacher_student_sweep --draws 400 --seed 7

Each run is the claim's: ``refopt.bigbatch(lr=base·f, batch_size=2, step_rule="armijo")``,
f ~ U[0.5, 2], from the student's own initialisation, for 500 iterations unless ``--budget`` says
otherwise. A record has the first iteration with ℓ ≤ 10⁻¹ℓ₀ (None if none within the budget: a
miss, as the claim counts it), the ratio ℓ/ℓ₀ at the end, and the teacher's smallest output weight
min_j |a_j| (proofs/theorems/convergence-empirical.md, ``conv-emp-bigbatch-teacher``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import refopt
from refopt.testing._drive import step_on
from refopt.testing.strategies import teacher_parameters, teacher_student_problem
from tools import _sweep_cli as cli

BUDGET, TARGET = 500, 1e-1


def smallest_output_weight(params: list) -> float:
    """min_j |a_j| over the output layer's weights: how strongly the weakest hidden unit speaks."""
    return float(np.abs(params[-1]["W"]).min())


def draws(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` instances of the class, each a dict with the problem, the student's start, the
    teacher's smallest output weight and the key (d, h, N, the problem's seed, the start's seed, f)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        d, h, n = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(4, 25))
        prob_seed, start_seed = int(rng.integers(0, 10_001)), int(rng.integers(0, 1001))
        f = float(rng.uniform(0.5, 2.0))
        prob = teacher_student_problem(d, h, n, prob_seed)
        x0 = prob.net.init(seed=start_seed)
        weight = smallest_output_weight(teacher_parameters(d, h, prob_seed))
        if float(prob.value(x0)) < 1e-2:   # the protocol's filter
            continue
        made += 1
        yield {"prob": prob, "x0": x0, "teacher_weight": weight,
               "key": (d, h, n, prob_seed, start_seed, f)}


def run(base: float, prob: Any, x0: Any, f: float, budget: int = BUDGET, *,
        build: Callable[..., Any] = refopt.bigbatch, stop_at_target: bool = False) -> dict[str, Any]:
    """One protocol run: the first iteration at or below 10⁻¹ℓ₀ (None if none) and ℓ/ℓ₀ at the end
    (at that first iteration with ``stop_at_target``). ``build`` makes the optimizer from the
    protocol's arguments (a test passes a wrong variant)."""
    opt = build(lr=base * f, batch_size=2, step_rule="armijo")
    x, state = x0, opt.init(x0)
    f0, first, ratio = float(prob.value(x0)), None, np.inf
    for t in range(1, budget + 1):
        x, state = step_on(opt, prob, x, state)
        ratio = float(prob.value(x)) / f0
        if first is None and ratio <= TARGET:
            first = t
            if stop_at_target:
                break
        if not np.isfinite(ratio):   # diverged: a fixed-step run never comes back from overflow
            break
    return {"first": first, "final": ratio}


def sweep(base: float, count: int, seed: int, budget: int = BUDGET,
          progress: bool = True) -> list[dict[str, Any]]:
    records = []
    for d in cli.with_progress(draws(count, seed), count, "bigbatch", progress):
        rec = {"key": d["key"], "teacher_weight": d["teacher_weight"]}
        rec.update(run(base, d["prob"], d["x0"], d["key"][5], budget))
        records.append(rec)
    return records


def summary(records: list[dict[str, Any]], budget: int = BUDGET) -> str:
    """Draws, misses (never at or below 10⁻¹ℓ₀ within the budget, as the claim counts them), the
    latest first hit among the draws that met the target, and each miss's key and teacher weight."""
    missed = [r for r in records if r["first"] is None]
    hits = [r["first"] for r in records if r["first"] is not None]
    lines = [f"draws {len(records)}, budget {budget}: {len(missed)} miss, "
             f"latest first hit {max(hits, default=None)}"]
    lines += [f"  miss {tuple(r['key'])}: ℓ/ℓ₀ = {r['final']:.3g}, min |a_j| = {r['teacher_weight']:.3g}"
              for r in missed]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = cli.base_parser(__doc__, base=1.0, base_help="α₀ = base·f (the protocol's 1)", seed=7, draws=400)
    p.add_argument("--budget", type=int, default=BUDGET, help=f"iterations per run (the protocol's {BUDGET})")
    args = p.parse_args(argv)
    cli.positive(p, args, "draws", "budget")
    if not args.base > 0:
        p.error(f"--base must be positive, got {args.base}")
    records = sweep(args.base, args.draws, args.seed, args.budget, sys.stderr.isatty())
    cli.write_json(args.json, records)
    print(summary(records, args.budget))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
