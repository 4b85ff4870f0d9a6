"""
Big Batch SGD: batch-size and step-size trajectories for the fixed, Armijo and BB rules
=======================================================================================

On regularised logistic regression over teacher–student data (N = 4000), runs Big Batch SGD
with θ = 1 from K₀ = 8 under each step rule and prints, every few iterations, the batch size,
step size and objective gap, then plots the trajectories. The paper's claim: batches grow as
the iterate approaches the solution, and Armijo/BB pick step sizes without tuning. What this
run shows (seed 0): with the fixed and BB rules the batch grows to N and the gap reaches
rounding level; with Armijo the batch stays small (8 → ~100) and the backtracking, done on the
batch, accepts steps α ≈ 7.2 > 2/L that raise the *full* objective for a while — a line search
on a small batch certifies decrease of the batch loss only.
Run: ``python examples/bigbatch_trajectories.py``.
"""

from __future__ import annotations

import argparse

import numpy as np

from refopt.plotting import pyplot, save_figure
from refopt.problems import LogisticRegression, teacher_student
from refopt.research import run_bigbatch


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--iters", type=int, default=80)
    parser.add_argument("--out", default="bigbatch_trajectories.png")
    args = parser.parse_args(argv)
    X, y, _ = teacher_student(4000, d=10, hidden=5, noise=0.5, seed=1)
    prob = LogisticRegression(X, y, l2=1e-2)
    x0 = np.zeros(prob.dim)
    out = {}
    for rule in ("fixed", "armijo", "bb"):
        res = run_bigbatch(prob, x0, lr=1.0 / (prob.L * 2), theta=1.0, batch_size=8, growth=0.1,
                           step_rule=rule, seed=0, max_iters=args.iters, stop_at_full_batch=False)
        h = res.history
        out[rule] = h
        print(f"step rule {rule!r}: stopped by {res.stop_reason} after {len(h['batch_size'])} "
              f"iterations, {h['examples'][-1]} per-example gradients")
        print(f"  {'iter':>5}{'batch':>8}{'step':>10}{'gap':>12}")
        for i in range(0, len(h["batch_size"]), max(1, len(h["batch_size"]) // 6)):
            print(f"  {i + 1:>5}{h['batch_size'][i]:>8}{h['lr'][i]:>10.3g}"
                  f"{h['objective'][i] - prob.min_value:>12.3e}")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(1, 3, figsize=(12, 3.8))
        for rule, h in out.items():
            ax[0].semilogy(h["batch_size"], label=rule)
            ax[1].semilogy(h["lr"], label=rule)
            ax[2].semilogy(h["examples"], [v - prob.min_value for v in h["objective"]], label=rule)
        ax[0].set(xlabel="iteration", ylabel="batch size")
        ax[1].set(xlabel="iteration", ylabel="step size α")
        ax[2].set(xlabel="per-example gradients", ylabel="ℓ − ℓ*")
        ax[0].legend()
        save_figure(fig, args.out)
    return out


if __name__ == "__main__":
    main()
