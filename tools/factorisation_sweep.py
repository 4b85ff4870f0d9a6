"""Sweep a rule's non-convex empirical protocol over random draws of the factorisation class.

The ``thorough`` hypothesis profile finds counterexamples; this sweep measures how much of the
class a counterexample stands for, grouped by the two things the LAMB diagnosis found to matter
(proofs/theorems/convergence-empirical.md, ``conv-emp-lamb-aligned``): the rank of M and the sign
of ⟨U₀V₀ᵀ, M⟩. It draws from the same ranges as
:func:`refopt.testing.strategies.matrix_factorisations` with the protocol's filters (ℓ₀ ≥ 10⁻²,
κ(M) ≤ 2), seeded so a run is repeatable::

    python -m tools.factorisation_sweep --rule lamb --draws 4000 --seed 11

Schedules (η = base·f, f ~ U[0.5, 2]): ``decayed`` (cosine to 0 over the budget, the claims'
protocol), ``constant``, and ``held`` (η for the first half, then cosine to 0). Success is the
claim's: the best loss over the budget (500 updates unless ``--budget`` says otherwise) at most
10⁻²ℓ₀.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any, Literal

import numpy as np

import refopt
from refopt.problems import MatrixFactorisation
from refopt.registry import SPECS
from refopt.testing._drive import step_on
from tools import _sweep_cli as cli

Schedule = Literal["decayed", "constant", "held"]
SCHEDULES: tuple[Schedule, ...] = ("decayed", "constant", "held")
BUDGET, TARGET = 500, 1e-2


def draws(count: int, seed: int, rank: int | None = None) -> Iterator[dict[str, Any]]:
    """``count`` instances of the class, each a dict with the problem, its start and its key
    (m, n, r, the problem's seed, the start's seed, f); with ``rank``, the first ``count`` of
    that rank in the same sequence."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        m, n = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        r = int(rng.integers(1, min(2, m, n) + 1))
        prob_seed, start_seed = int(rng.integers(0, 10_001)), int(rng.integers(0, 1001))
        f = float(rng.uniform(0.5, 2.0))
        prob = MatrixFactorisation(m, n, r, seed=prob_seed)
        prob.M = prob.M / float(np.linalg.norm(prob.M, 2))
        sv = np.linalg.svd(prob.M, compute_uv=False)
        x0 = prob.random_point(start_seed, 0.5)
        if float(prob.value(x0)) < 1e-2 or sv[0] / sv[r - 1] > 2:   # the protocol's filters
            continue
        if rank is not None and r != rank:
            continue
        made += 1
        yield {"prob": prob, "x0": x0, "key": (m, n, r, prob_seed, start_seed, f)}


def schedule(kind: Schedule, eta: float, budget: int = BUDGET) -> Callable[[int], float] | float:
    if kind == "constant":
        return eta
    if kind == "decayed":
        return refopt.cosine_decay(eta, budget)
    half = budget // 2
    tail = refopt.cosine_decay(eta, budget - half)
    return lambda t: eta if t <= half else tail(t - half)


def imbalance(x: Any) -> float:
    """‖UᵀU − VᵀV‖_F: constant along gradient flow on ½‖UVᵀ − M‖², so its growth measures how far
    a rule's steps leave the flow's balanced path."""
    return float(np.linalg.norm(x["U"].T @ x["U"] - x["V"].T @ x["V"]))


def run(rule: str, base: float, kind: Schedule, prob: Any, x0: Any, f: float,
        options: dict[str, Any] | None = None, budget: int = BUDGET) -> dict[str, float]:
    """One protocol run over ``budget`` updates: best and final loss ratio, the smallest layer norm
    along the way, and the imbalance at the start and at the end. ``options`` are the rule's other
    hyperparameters (e.g. ``clipping`` of adaptive_grad_clip)."""
    opt = SPECS[rule].factory(lr=schedule(kind, base * f, budget), **(options or {}))
    x, state = x0, opt.init(x0)
    f0, losses, smallest = float(prob.value(x0)), [], np.inf
    for _ in range(budget):
        x, state = step_on(opt, prob, x, state)
        losses.append(float(prob.value(x)))
        smallest = min(smallest, float(np.linalg.norm(x["U"])), float(np.linalg.norm(x["V"])))
    # a diverging run overflows to inf/NaN: the best is over the finite losses (inf if none), and
    # NaN never compares below the target, so such a run still counts as a miss if it never got there
    finite = [v for v in losses if np.isfinite(v)]
    return {"best": min(finite, default=np.inf) / f0, "final": losses[-1] / f0,
            "smallest_layer_norm": smallest, "diverged": not np.isfinite(losses[-1]),
            "imbalance_start": imbalance(x0), "imbalance_end": imbalance(x)}


def sweep(rule: str, base: float, count: int, seed: int, kinds: tuple[Schedule, ...] = SCHEDULES,
          progress: bool = True, options: dict[str, Any] | None = None,
          budget: int = BUDGET, rank: int | None = None) -> list[dict[str, Any]]:
    records = []
    for d in cli.with_progress(draws(count, seed, rank), count, rule, progress):
        prob, x0 = d["prob"], d["x0"]
        rec: dict[str, Any] = {"key": d["key"],
                               "alignment": float(np.sum((x0["U"] @ x0["V"].T) * prob.M))}
        for kind in kinds:
            rec[kind] = run(rule, base, kind, prob, x0, d["key"][5], options, budget)
        records.append(rec)
    return records


def summary(records: list[dict[str, Any]], kinds: tuple[Schedule, ...] = SCHEDULES) -> str:
    """Per (rank, sign of ⟨U₀V₀ᵀ, M⟩) and schedule: draws, misses (best > 10⁻²ℓ₀), worst best ratio,
    runs whose last loss is not finite."""
    lines = ["rank  alignment  draws  " + "  ".join(f"{k:>34}" for k in kinds)]
    for rank in (1, 2):
        for sign, name in ((-1, "anti"), (1, "aligned")):
            group = [r for r in records if r["key"][2] == rank and (r["alignment"] >= 0) == (sign > 0)]
            if not group:
                continue
            cells = []
            for k in kinds:
                misses = sum(not r[k]["best"] <= TARGET for r in group)
                diverged = sum(bool(r[k].get("diverged")) for r in group)
                cells.append(f"{misses:>5} miss, max {max(r[k]['best'] for r in group):8.2e}, "
                             f"{diverged} diverged")
            lines.append(f"{rank:>4}  {name:>9}  {len(group):>5}  " + "  ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__, rule="lamb", base=0.03, base_help="η = base·f (the protocol's 0.03)", seed=11,
                   schedules=SCHEDULES, example="clipping=0.1")
    p.add_argument("--budget", type=int, default=BUDGET, help=f"updates per run (the protocol's {BUDGET})")
    p.add_argument("--rank", type=int, choices=(1, 2), help="draw only factorisations of this rank")
    args = p.parse_args(argv)
    kinds, options = cli.checked(p, args, SCHEDULES)
    cli.positive(p, args, "budget")
    records = sweep(args.rule, args.base, args.draws, args.seed, kinds, sys.stderr.isatty(), options,
                    args.budget, args.rank)
    cli.write_json(args.json, records)
    print(summary(records, kinds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
