"""
R-SGD vs SGD and Adam on the teacher–student task (seed 000's qualitative claim)
================================================================================

The R-SGD abstract claims faster training and a smaller gap between training and test error
than SGD. This script trains the same student MLP (20–30–2, tanh) on teacher-labelled data
with SGD, R-SGD (as reconstructed: the default saturating schedule, the unsaturated one and the
"previous" mode) and Adam at fixed learning rates, and reports the epochs needed to reach a
training loss of 0.1, the final train/test accuracies and their gap. It shows the mechanics; the
claim itself is tested, with tuned learning rates and several seeds, by
``examples/studies/study_rsgd.py``. Run: ``python examples/rsgd_teacher_student.py``.
"""

from __future__ import annotations

import argparse

import refopt
from refopt.nn import MLP
from refopt.plotting import pyplot, save_figure
from refopt.problems import MLPObjective, teacher_student, train_test_split
from refopt.train import train

LOSS_TARGET = 0.1  # training loss whose first epoch is reported ("speed")

RULES = {
    "sgd": lambda: refopt.sgd(lr=0.1),
    "rsgd (p_max=0.9)": lambda: refopt.rsgd(lr=0.1, seed=0),
    "rsgd p_max=1 γ=0.999": lambda: refopt.rsgd(lr=0.1, gamma=0.999, p_max=1.0, seed=0),
    "rsgd previous": lambda: refopt.rsgd(lr=0.1, mode="previous", seed=0),
    "adam": lambda: refopt.adam(lr=0.003),
}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="rsgd_teacher_student.png")
    args = parser.parse_args(argv)
    X, y, _ = teacher_student(3000, d=20, hidden=10, noise=0.1, seed=0)
    s = train_test_split(X, y, test_fraction=0.3, seed=0)
    net = MLP([20, 30, 2], activation="tanh")
    obj, test = MLPObjective(net, s.X_train, s.y_train), MLPObjective(net, s.X_test, s.y_test)
    print(f"{'rule':<24}{f'epochs to loss {LOSS_TARGET}':>20}{'train acc':>11}{'test acc':>10}{'gap':>8}")
    out = {}
    for name, make in RULES.items():
        res = train(obj, make(), net.init(0), epochs=args.epochs, batch_size=32, seed=0,
                    validate=lambda p: {"test_accuracy": test.accuracy(p)})
        h = res.history
        reach = next((e for e, v in zip(h["epoch"], h["loss"]) if v <= LOSS_TARGET), None)
        gap = h["accuracy"][-1] - h["test_accuracy"][-1]
        out[name] = h
        print(f"{name:<24}{reach if reach is not None else '—':>20}{h['accuracy'][-1]:>11.3f}"
              f"{h['test_accuracy'][-1]:>10.3f}{gap:>8.3f}")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        for name, h in out.items():
            ax[0].semilogy(h["epoch"], h["loss"], label=name)
            ax[1].plot(h["epoch"], [a - b for a, b in zip(h["accuracy"], h["test_accuracy"])], label=name)
        ax[0].set(xlabel="epoch", ylabel="training loss", title="training loss")
        ax[1].set(xlabel="epoch", ylabel="train − test accuracy", title="generalisation gap")
        ax[0].legend(fontsize=7)
        save_figure(fig, args.out)
    return out


if __name__ == "__main__":
    main()
