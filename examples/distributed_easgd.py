"""
Elastic Averaging SGD with two workers: worker and center trajectories on the digits MLP
========================================================================================

Two workers train the digits MLP (the teacher–student task without scikit-learn) with
asynchronous EASGD: each takes SGD steps on its own mini-batches and every τ steps exchanges
the elastic term α(x^i − x̃) with the center x̃. The left panel shows the training loss of each
worker and of the center; the right one projects the three parameter trajectories onto their
two leading principal directions — the workers wander, the center averages them.

The gallery runs the deterministic simulator on a bounded-delay schedule (fast, no Ray). To run
the same algorithm on Ray actors (``pip install 'refopt[distributed]'``)::

    python examples/distributed_easgd.py --engine ray

which also replays the recorded event log in the simulator and prints whether the two results
are bit-for-bit equal (they are: see :ref:`dist-events`); the plot is drawn from the replay.
"""

from __future__ import annotations

import argparse

import numpy as np

import refopt.distributed as rd
from refopt import tree
from refopt.demo import load_data
from refopt.nn import MLP
from refopt.plotting import pyplot, save_figure
from refopt.problems import MLPObjective


def _flat(params) -> np.ndarray:
    return np.concatenate([np.ravel(leaf) for leaf in tree.leaves(params)])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--engine", choices=["simulate", "ray"], default="simulate")
    parser.add_argument("--steps", type=int, default=120, help="local steps per worker")
    parser.add_argument("--out", default="distributed_easgd.png", help="the figure; '' to skip it")
    args = parser.parse_args(argv)
    _, s = load_data()
    net = MLP([s.X_train.shape[1], 16, int(s.y_train.max()) + 1], activation="tanh")
    objective = MLPObjective(net, s.X_train, s.y_train)
    params = net.init(seed=0)
    alg = rd.easgd(lr=0.05, alpha=0.1, tau=4, mode="async")
    if args.engine == "ray":
        run = rd.run_ray(alg, objective, params, n_workers=2, steps=args.steps, batch_size=32)
        traced = rd.simulate(alg, objective, params, run.log, trace=True)
        same = all(np.array_equal(a, b) for a, b in zip(tree.leaves(run.params), tree.leaves(traced.params)))
        print(f"Ray run replayed in the simulator: bit-for-bit equal = {same}")
    else:
        schedule = rd.bounded_delay(alg, objective, params, n_workers=2, steps=args.steps, tau=2,
                                    batch_size=32, seed=0)
        traced = rd.simulate(alg, objective, params, schedule, trace=True)
    computes = [i for i, e in enumerate(traced.log["events"]) if e["event"] == "compute"]
    frames = [traced.trace[i] for i in computes[::4]]
    paths = {"center": np.array([_flat(c) for c, _ in frames])}
    for w in range(2):
        paths[f"worker {w}"] = np.array([_flat(ws[w]) for _, ws in frames])
    losses = {name: [float(objective.value(tree.unflatten(tree.structure(params), _split(p, params))))
                     for p in path] for name, path in paths.items()}
    for name, ls in losses.items():
        print(f"{name:>9}: loss {ls[0]:.4f} -> {ls[-1]:.4f}")
    plt = pyplot() if args.out else None
    if plt is not None:
        stacked = np.concatenate(list(paths.values()))
        mean = stacked.mean(axis=0)
        _, _, vt = np.linalg.svd(stacked - mean, full_matrices=False)
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
        for name, path in paths.items():
            style = {"lw": 2.5, "color": "k"} if name == "center" else {"lw": 1, "alpha": 0.8}
            ax0.plot(losses[name], label=name, **style)
            xy = (path - mean) @ vt[:2].T
            ax1.plot(xy[:, 0], xy[:, 1], label=name, **style)
        ax0.set(xlabel="event (every 4th compute)", ylabel="training loss", title="EASGD, 2 workers")
        ax1.set(xlabel="PC 1", ylabel="PC 2", title="trajectories (leading principal directions)")
        ax0.legend()
        save_figure(fig, args.out)
    return losses


def _split(flat: np.ndarray, like) -> list:
    out, i = [], 0
    for leaf in tree.leaves(like):
        out.append(flat[i:i + leaf.size].reshape(leaf.shape))
        i += leaf.size
    return out


if __name__ == "__main__":
    main()
