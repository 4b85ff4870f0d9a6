"""2-D trajectories of every registered rule, drawn at build time (one mechanism for all pages).

For each proof label that registry Specs point at, the rules of those Specs are run from their
first registered configuration on an ill-conditioned quadratic (κ = 25) and on Rosenbrock; the
step size is the one of a small geometric grid that ends lowest without leaving the plot (so each
picture shows the rule at a step it tolerates, not a tuned benchmark). The figure is appended to
the page by provenance.source_read; rules that need more than a gradient (an objective with
samples) are listed as not drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from refopt.registry import SPECS

STEPS = 200
LRS = tuple(10.0 ** e for e in (-3, -2.5, -2, -1.5, -1, -0.5))
X0 = np.array([-1.5, 1.5])


def _quadratic():
    H = np.diag([1.0, 25.0]) / 25.0          # κ = 25, L = 1
    return (lambda x: 0.5 * x @ H @ x), (lambda x: H @ x), (np.zeros(2)), ((-2, 2), (-2, 2))


def _rosenbrock():
    def f(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    def g(x):
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    return f, g, np.array([1.0, 1.0]), ((-2, 2), (-1, 3))


PROBLEMS = {"ill-conditioned quadratic (κ = 25)": _quadratic, "Rosenbrock": _rosenbrock}


def _run(spec, cfg, grad):
    opt = spec.build(**cfg)
    p = X0.copy()
    state = opt.init(p)
    path = [p.copy()]
    for _ in range(STEPS):
        if "grad_fn" in spec.needs:
            try:
                p, state = opt.update(grad(p), state, p, grad_fn=grad)
            except (TypeError, ValueError):
                p, state = opt.update(None, state, p, grad_fn=grad)
        else:
            p, state = opt.update(grad(p), state, p)
        if not np.all(np.isfinite(p)) or np.max(np.abs(p)) > 1e3:
            return None
        path.append(np.array(p, dtype=float))
    return np.array(path)


def best_path(spec, f, grad):
    """(lr, path) with the lowest final loss over the grid, or (None, None)."""
    best = (math.inf, None, None)
    for lr in LRS:
        cfg = dict(spec.configs[0])
        if "lr" in cfg or spec.lr_schedules:
            cfg["lr"] = lr
        try:
            path = _run(spec, cfg, grad)
        except Exception:                     # noqa: BLE001 — a rule that cannot run here is skipped
            return None, None
        if path is not None and f(path[-1]) < best[0]:
            best = (f(path[-1]), lr, path)
        if "lr" not in cfg:
            break
    return best[1], best[2]


def figure(label: str, outdir: Path) -> tuple[str, list[str], list[str]] | None:
    """Draw the figure for a proof label; return (file name, drawn specs, skipped specs)."""
    specs = [s for s in SPECS.values() if s.proof == label]
    if not specs:
        return None
    drawable = [s for s in specs if not (s.needs - {"grad_fn"})]
    skipped = [s.name for s in specs if s not in drawable]
    if not drawable:
        return None
    from refopt.plotting import pyplot
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    drawn = []
    for ax, (title, make) in zip(axes, PROBLEMS.items()):
        f, grad, xstar, (xr, yr) = make()
        xs, ys = np.meshgrid(np.linspace(*xr, 200), np.linspace(*yr, 200))
        zs = np.vectorize(lambda a, b: f(np.array([a, b])))(xs, ys)
        ax.contour(xs, ys, np.log1p(zs), levels=25, linewidths=0.5, cmap="Greys")
        ax.plot(*xstar, "k*", ms=10)
        for spec in drawable:
            lr, path = best_path(spec, f, grad)
            if path is None:
                continue
            ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=f"{spec.name}, η = {lr:.2g}")
            drawn.append(spec.name)
        ax.set_title(f"{title}, {STEPS} steps")
        ax.set_xlim(*xr)
        ax.set_ylim(*yr)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    name = f"{label}.png"
    fig.savefig(outdir / name, dpi=90)
    plt.close(fig)
    return name, sorted(set(drawn)), skipped


def section(label: str, result) -> str:
    name, drawn, skipped = result
    note = f" Not drawn (they need an objective with samples): {', '.join(skipped)}." if skipped else ""
    return "\n".join([
        "", "## Trajectories", "",
        f"```{{figure}} /generated/trajectories/{name}", f":alt: trajectories of {', '.join(drawn)}",
        ":width: 100%", "",
        f"{', '.join(drawn)} from (−1.5, 1.5), generated at build time from the registry "
        "(`docs/_ext/trajectories.py`): the step size is the one of the grid "
        "10^−3, 10^−2.5, …, 10^−0.5 that ends "
        f"lowest; the star marks the minimiser.{note}",
        "```", ""])
