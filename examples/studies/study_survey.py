"""
Ruder's survey of gradient descent (2016): do adaptive methods converge faster, is Adam best?
=============================================================================================

**Claims** (seed 002, Ruder 2016, arXiv:1609.04747, §4.10): momentum accelerates SGD; the
adaptive learning-rate methods (Adagrad, Adadelta, RMSprop, Adam) converge faster than SGD, which
"might take significantly longer"; Adam "might be the best overall choice"; Adagrad suits sparse
data.

**Comparison.** The digits MLP (64–32–10 tanh, 5 epochs of batch 32 — a short budget, so that
"faster" shows in the final training loss): SGD, momentum 0.9,
Adagrad, Adadelta, RMSprop, Adam, Adamax and NAdam, each at the learning rate of its grid with the
lowest final training loss, 3 seeds, 95% t-intervals; speed = final training loss, generalisation
= test accuracy. Sparse data: logistic regression on 2000 examples whose 50 binary features occur
with Zipf-like frequencies (feature j is on with probability 0.5/(j+1)), 5 epochs, SGD vs Adagrad
at tuned learning rates. NAG is left out here: its signature is being split into two rules.

Run: ``python examples/studies/study_survey.py`` (about 4 minutes; ``--smoke`` for seconds).

The numbers recorded by the last full run:

.. include:: ../../../examples/studies/results/study_survey.rst
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

import refopt  # noqa: E402
from refopt.problems import LogisticRegression  # noqa: E402
from refopt.train import train  # noqa: E402

RULES = {   # five-point grids, a factor ≈3 apart, placed after a first run found every optimum at the top
    "sgd": (lambda lr: refopt.sgd(lr=lr), [0.1, 0.3, 1.0, 3.0, 10.0]),
    "momentum 0.9": (lambda lr: refopt.momentum(lr=lr, momentum=0.9), [0.01, 0.03, 0.1, 0.3, 1.0]),
    "adagrad": (lambda lr: refopt.adagrad(lr=lr), [0.03, 0.1, 0.3, 1.0, 3.0]),
    "adadelta": (lambda lr: refopt.adadelta(lr=lr), [1.0, 3.0, 10.0, 30.0, 100.0]),
    "rmsprop": (lambda lr: refopt.rmsprop(lr=lr), [1e-3, 3e-3, 1e-2, 3e-2, 0.1]),
    "adam": (lambda lr: refopt.adam(lr=lr), [1e-3, 3e-3, 1e-2, 3e-2, 0.1]),
    "adamax": (lambda lr: refopt.adamax(lr=lr), [3e-3, 1e-2, 3e-2, 0.1, 0.3]),
    "nadam": (lambda lr: refopt.nadam(lr=lr), [1e-3, 3e-3, 1e-2, 3e-2, 0.1]),
}
ADAPTIVE = ("adagrad", "adadelta", "rmsprop", "adam")


def run_digits(task, make, lr: float, seed: int, epochs: int) -> dict:
    net, obj, test = task
    with np.errstate(all="ignore"):
        h = train(obj, make(lr), net.init(seed), epochs=epochs, batch_size=32, seed=seed,
                  validate=lambda p: {"test_accuracy": test.accuracy(p)}).history
    loss = h["loss"][-1] if math.isfinite(h["loss"][-1]) else math.inf
    return {"loss": loss, "test": h["test_accuracy"][-1]}


def sparse_problem(n: int) -> LogisticRegression:
    rng = np.random.default_rng(0)
    freq = 0.5 / (np.arange(50) + 1.0)
    X = (rng.random((n, 50)) < freq).astype(float)
    w = rng.standard_normal(50) * 2
    y = (X @ w + 0.3 * rng.standard_normal(n) > np.median(X @ w)).astype(np.int64)
    return LogisticRegression(X, y, l2=1e-4)


def run_sparse(prob, make, lr: float, seed: int, epochs: int) -> dict:
    res = train(prob, make(lr), np.zeros(prob.dim), epochs=epochs, batch_size=16, seed=seed)
    loss = res.history["loss"][-1]
    return {"gap": loss - prob.min_value if math.isfinite(loss) else math.inf}


def main(argv=None) -> dict:
    args = C.arguments("study_survey", __doc__, argv)
    started = time.time()
    seeds, epochs = ([0], 1) if args.smoke else ([0, 1, 2], 5)
    task = C.digits_task()
    rows, res_by = [], {}
    for name, (make, grid) in RULES.items():
        grid = grid[2:3] if args.smoke else grid
        best, res = C.tune(grid, seeds, lambda lr, s, m=make: run_digits(task, m, lr, s, epochs),
                           "loss", name)
        res_by[name] = res[best]
        rows.append([name, f"{best:g}{C.edge_note(grid, best)}",
                     C.fmt_ci([r["loss"] for r in res[best]], ".4f"),
                     C.fmt_ci([r["test"] for r in res[best]])])
    t1 = (f"digits MLP: {epochs} epochs, tuned lr, mean ± 95% CI over {len(seeds)} seeds",
          ("rule", "lr", "final train loss", "test accuracy"), rows)
    prob = sparse_problem(300 if args.smoke else 2000)
    sparse_rows, sparse = [], {}
    for name, make, grid in (("sgd", lambda lr: refopt.sgd(lr=lr), [0.3, 1.0, 3.0, 10.0, 30.0]),
                             ("adagrad", lambda lr: refopt.adagrad(lr=lr), [0.1, 0.3, 1.0, 3.0, 10.0])):
        grid = grid[1:2] if args.smoke else grid
        sparse_epochs = 1 if args.smoke else 5
        best, res = C.tune(grid, seeds, lambda lr, s, m=make: run_sparse(prob, m, lr, s, sparse_epochs),
                           "gap", f"sparse: {name}")
        sparse[name] = [r["gap"] for r in res[best]]
        sparse_rows.append([name, f"{best:g}{C.edge_note(grid, best)}", C.fmt_ci(sparse[name], ".2e")])
    t2 = ("sparse logistic regression: objective gap after 5 epochs of batch 16, tuned lr",
          ("rule", "lr", "objective gap"), sparse_rows)
    loss = {k: [r["loss"] for r in v] for k, v in res_by.items()}
    test = {k: [r["test"] for r in v] for k, v in res_by.items()}
    best_adaptive = min(ADAPTIVE, key=lambda k: C.ci(loss[k])[0])
    best_loss = min(loss, key=lambda k: C.ci(loss[k])[0])
    best_test = max(test, key=lambda k: C.ci(test[k])[0])
    faster = [k for k in ADAPTIVE if C.compare(loss[k], loss["sgd"]) == "<"]
    verdicts = [
        ("momentum accelerates SGD", f"final train loss momentum {C.fmt_ci(loss['momentum 0.9'], '.4f')} "
         f"vs SGD {C.fmt_ci(loss['sgd'], '.4f')}", C.verdict(C.compare(loss["momentum 0.9"], loss["sgd"])),
         "both at their tuned lr; disjoint CIs decide"),
        ("adaptive methods converge faster than SGD",
         f"adaptive methods with a lower final train loss than SGD: {', '.join(faster) or 'none'} "
         f"(best: {best_adaptive})",
         "supported" if len(faster) == len(ADAPTIVE) else
         ("partly supported" if faster else "not supported"),
         "each of Adagrad, Adadelta, RMSprop, Adam against tuned SGD"),
        ("Adam might be the best overall choice",
         f"lowest train loss: {best_loss}; highest test accuracy: {best_test}; Adam vs them: "
         f"{C.compare(loss['adam'], loss[best_loss])} (loss), "
         f"{C.compare(test['adam'], test[best_test])} (accuracy)",
         "supported" if C.compare(loss["adam"], loss[best_loss]) == "≈"
         and C.compare(test["adam"], test[best_test]) == "≈" else "not supported",
         "Adam within the CIs of the best rule on both counts would support it"),
        ("Adagrad suits sparse data", f"objective gap Adagrad {C.fmt_ci(sparse['adagrad'], '.2e')} vs SGD "
         f"{C.fmt_ci(sparse['sgd'], '.2e')}", C.verdict(C.compare(sparse["adagrad"], sparse["sgd"])),
         "Zipf-frequency binary features; both at tuned lr"),
    ]
    C.report("study_survey", "Ruder's survey", f"seeds {seeds}", [t1, t2], verdicts, args.results, started)
    return {"tables": [t1, t2], "verdicts": verdicts}


if __name__ == "__main__":
    main()
