"""
AGD's auto-switch: the fraction of coordinates in SGD mode during training, for several δ
=========================================================================================

Trains the digits MLP (or the teacher–student task without scikit-learn) with AGD for a few
epochs at δ ∈ {1e−8, 1e−5, 1e−3, 1e−2} and records, after every step, the fraction of parameters
with √b̂_t ≤ δ (the SGD-momentum branch). Larger δ puts more coordinates in SGD mode; δ → ∞ is
momentum SGD with step η/δ. Run: ``python examples/agd_sgd_fraction.py``.
"""

from __future__ import annotations

import argparse

import numpy as np

import refopt
from refopt.demo import load_data
from refopt.nn import MLP
from refopt.plotting import pyplot, save_figure
from refopt.problems import MLPObjective, epoch_batches
from refopt.research import agd_sgd_fraction

DELTAS = [1e-8, 1e-5, 1e-3, 1e-2]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", default="agd_sgd_fraction.png")
    args = parser.parse_args(argv)
    _, s = load_data()
    k = int(s.y_train.max()) + 1
    net = MLP([s.X_train.shape[1], 32, k], activation="tanh")
    obj = MLPObjective(net, s.X_train, s.y_train)
    out = {}
    print(f"{'delta':>8}{'SGD-mode fraction: first step':>32}{'mid':>8}{'last':>8}{'final loss':>12}")
    for delta in DELTAS:
        opt = refopt.agd(lr=0.003, delta=delta)
        params = net.init(0)
        state = opt.init(params)
        fractions = []
        for epoch in range(1, args.epochs + 1):
            for idx in epoch_batches(obj.n_examples, 32, seed=0, epoch=epoch):
                params, state = opt.update(obj.batch_grad(params, idx), state, params)
                fractions.append(agd_sgd_fraction(state, delta=delta))
        out[delta] = np.array(fractions)
        print(f"{delta:>8.0e}{fractions[0]:>32.3f}{fractions[len(fractions) // 2]:>8.3f}"
              f"{fractions[-1]:>8.3f}{float(obj.value(params)):>12.4f}")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for delta, fr in out.items():
            ax.plot(fr, label=f"δ = {delta:g}")
        ax.set(xlabel="step", ylabel="fraction of coordinates in SGD mode",
               title="AGD auto-switch on the MLP")
        ax.legend()
        save_figure(fig, args.out)
    return out


if __name__ == "__main__":
    main()
