"""
Compare every registered rule on two classic problems and print a table
=======================================================================

Run with ``python examples/test_functions.py``. Problems: an ill-conditioned quadratic ℓ(θ) = ½ θᵀAθ with
eigenvalues spread over [0.01, 1] (κ = 100, ℓ* = 0), and the 2-D Rosenbrock function
(ℓ* = 0 at (1, 1)). Each rule runs a fixed number of steps from a fixed start with one hand-set
learning rate per rule (listed in the table), so the numbers are reproducible bit for bit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from refopt.registry import SPECS

# one learning rate per rule and problem, chosen once by hand (not tuned per run)
SETTINGS = {
    "sgd": ({"lr": 1.0}, {"lr": 1e-3}),
    "momentum": ({"lr": 1.0, "momentum": 0.9}, {"lr": 1e-4, "momentum": 0.9}),
    "nag": ({"lr": 1.0, "momentum": 0.9}, {"lr": 1e-4, "momentum": 0.9}),
    "nag_reparameterised": ({"lr": 1.0, "momentum": 0.9}, {"lr": 1e-4, "momentum": 0.9}),
    "adagrad": ({"lr": 0.5}, {"lr": 0.5}),
    "adadelta": ({"lr": 1.0}, {"lr": 1.0}),
    "rmsprop": ({"lr": 0.01}, {"lr": 1e-3}),
    "adam": ({"lr": 0.05}, {"lr": 0.02}),
    "adamax": ({"lr": 0.05}, {"lr": 0.02}),
    "nadam": ({"lr": 0.05}, {"lr": 0.02}),
    "amsgrad": ({"lr": 0.05}, {"lr": 0.02}),
    "gradient_noise": ({"lr": 1.0, "eta": 0.01, "seed": 0}, {"lr": 1e-3, "eta": 0.01, "seed": 0}),
}


def quadratic():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    a = q @ np.diag(np.geomspace(0.01, 1.0, 20)) @ q.T
    return (lambda x: 0.5 * x @ a @ x), (lambda x: a @ x), np.ones(20)


def rosenbrock():
    def f(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    def g(x):
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                         200 * (x[1] - x[0] ** 2)])
    return f, g, np.array([-1.2, 1.0])


def run_rule(name: str, cfg: dict, problem, steps: int) -> float:
    f, g, x0 = problem
    opt = SPECS[name].build(**cfg)
    x, state = x0.copy(), opt.init(x0)
    for _ in range(steps):
        if "grad_fn" in opt.extra_args:  # the rule declares that it evaluates gradients itself
            x, state = opt.update(None, state, x, grad_fn=g)
        else:
            x, state = opt.update(g(x), state, x)
    return float(f(x))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args(argv)
    problems = {"quadratic κ=100": quadratic(), "rosenbrock": rosenbrock()}
    start = time.perf_counter()
    header = f"{'rule':<22}" + "".join(f"{p:>24}" for p in problems) + "   learning rates"
    starts = ", ".join(f"{p} {f(x0):.3g}" for p, (f, _, x0) in problems.items())
    print(f"final loss after {args.steps} steps (start: {starts}; optimum 0 for both)")
    print(header)
    print("-" * len(header))
    for name, (cfg_q, cfg_r) in SETTINGS.items():
        losses = [run_rule(name, cfg, prob, args.steps)
                  for cfg, prob in zip((cfg_q, cfg_r), problems.values())]
        print(f"{name:<22}" + "".join(f"{v:>24.3e}" for v in losses)
              + f"   {cfg_q['lr']:g} / {cfg_r['lr']:g}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
