"""Sweep a rule's convex empirical protocol over random draws of the least-squares class.

The ``thorough`` hypothesis profile finds counterexamples; this sweep measures how much of the
class one stands for. It draws from the ranges of
:func:`refopt.testing.strategies.least_squares` as the convex claims use them (d ≤ 4, N ≤ 30,
Gaussian design, noise σ ≤ 1) with the protocol's filters (κ ≤ 20, 0.1 ≤ ‖w⋆‖∞ ≤ 1), seeded so
a run is repeatable::

    python -m tools.least_squares_sweep --rule sam --base 0.5 --set rho=0.05 --draws 2000 --seed 1

η = base·f/L (the SGD-type rules' units; ``--absolute`` for η = base·f), f ~ U[0.5, 2], from
w₀ = 0, constant or cosine-decayed to 0 over the 500 updates. Success is the claim's "reached"
criterion, ℓ(w_k) − ℓ⋆ ≤ 10⁻²(ℓ(w₀) − ℓ⋆) at some k ≤ 500, or with ``--final`` at k = 500
(proofs/theorems/convergence-empirical.md, ``conv-emp-convex``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

import refopt
from refopt.problems import LeastSquares
from refopt.registry import SPECS
from refopt.testing._drive import step_on
from tools import _sweep_cli as cli

Schedule = Literal["constant", "decayed"]
SCHEDULES: tuple[Schedule, ...] = ("constant", "decayed")
BUDGET, TARGET = 500, 1e-2


def draws(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` instances of the class, each a dict with the problem and its key
    (d, N, the problem's seed, σ, f)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        d = int(rng.integers(1, 5))
        n = int(rng.integers(d + 2, 31))
        prob_seed, sigma = int(rng.integers(0, 10_001)), float(rng.uniform(0.0, 1.0))
        f = float(rng.uniform(0.5, 2.0))
        inner = np.random.default_rng(prob_seed)   # the strategy's construction
        X = inner.standard_normal((n, d))
        prob = LeastSquares(X, X @ inner.uniform(-1, 1, d) + sigma * inner.standard_normal(n))
        if prob.mu is None or prob.L > 20 * prob.mu or not 0.1 <= float(np.abs(prob.minimiser).max()) <= 1:
            continue   # the protocol's filters
        made += 1
        yield {"prob": prob, "key": (d, n, prob_seed, sigma, f)}


def run(rule: str, base: float, kind: Schedule, prob: Any, f: float,
        options: dict[str, Any] | None = None, per_L: bool = True) -> dict[str, float]:
    """One protocol run: the best and the final gap ratio (ℓ − ℓ⋆)/(ℓ₀ − ℓ⋆)."""
    eta = base * f / (prob.L if per_L else 1.0)
    lr = refopt.cosine_decay(eta, BUDGET) if kind == "decayed" else eta
    opt = SPECS[rule].factory(lr=lr, **(options or {}))
    x = np.zeros(prob.dim)
    state, gap0, gaps = opt.init(x), float(prob.value(x)) - prob.min_value, []
    for _ in range(BUDGET):
        x, state = step_on(opt, prob, x, state)
        gaps.append((float(prob.value(x)) - prob.min_value) / gap0)
    finite = [g for g in gaps if np.isfinite(g)]
    return {"best": min(finite, default=np.inf), "final": gaps[-1]}


def sweep(rule: str, base: float, count: int, seed: int, kinds: tuple[Schedule, ...] = SCHEDULES,
          progress: bool = True, options: dict[str, Any] | None = None,
          per_L: bool = True) -> list[dict[str, Any]]:
    records = []
    for d in cli.with_progress(draws(count, seed), count, rule, progress):
        prob = d["prob"]
        rec: dict[str, Any] = {"key": d["key"], "w_star_max": float(np.abs(prob.minimiser).max()),
                               "kappa": prob.L / prob.mu}
        for kind in kinds:
            rec[kind] = run(rule, base, kind, prob, d["key"][4], options, per_L)
        records.append(rec)
    return records


Criterion = Literal["best", "final"]


def summary(records: list[dict[str, Any]], kinds: tuple[Schedule, ...] = SCHEDULES,
            criterion: Criterion = "best") -> str:
    """Per schedule: draws, misses (the best — or, for the claims stated for the last iterate, the
    final — gap ratio above 10⁻²), the worst such ratio, and the range of ‖w⋆‖∞ over the misses."""
    lines = [f"{'schedule':>9}  draws  misses  worst {criterion:>5}  ‖w⋆‖∞ of the misses"]
    for k in kinds:
        missed = [r for r in records if not r[k][criterion] <= TARGET]
        span = (f"{min(r['w_star_max'] for r in missed):.3g}–{max(r['w_star_max'] for r in missed):.3g}"
                if missed else "—")
        lines.append(f"{k:>9}  {len(records):>5}  {len(missed):>6}  "
                     f"{max(r[k][criterion] for r in records):10.2e}  {span}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__, rule="sam", base=0.5, base_help="η = base·f/L (the SGD-type protocol's 0.5)",
                   seed=1, schedules=SCHEDULES, example="rho=0.05")
    p.add_argument("--absolute", action="store_true", help="η = base·f, not base·f/L")
    p.add_argument("--final", action="store_true",
                   help="success on the last iterate (the claims not stated as 'reached')")
    args = p.parse_args(argv)
    kinds, options = cli.checked(p, args, SCHEDULES)
    records = sweep(args.rule, args.base, args.draws, args.seed, kinds, sys.stderr.isatty(), options,
                    not args.absolute)
    cli.write_json(args.json, records)
    print(summary(records, kinds, "final" if args.final else "best"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
