"""The search space of :func:`refopt.conformance.diagnose` and its first, candidate-free stage.

A rule's space is the product, over its keyword arguments, of every value the conventions table
uses for it, the extra switch values in ``SEARCH_SPACE`` and the factory default. The learning
rate is fitted instead: the first update of every searched rule is linear in η
(θ₁ = θ₀ + η·d₁, decoupled decay included), so d₁ at η = 1 is computed once per rule and cached.
"""

from __future__ import annotations

import functools
import inspect
import itertools

import numpy as np

from refopt import conventions
from refopt.conformance.compare import rel_error
from refopt.registry import SPECS

_SHARED_DEFAULTS = {"weight_decay": 0.0, "decay": "l2", "maximize": False}


def defaults(rule: str) -> dict:
    sig = inspect.signature(SPECS[rule].factory)
    own = {k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    # a shared option only where the factory takes it (schedule_free_sgd has no ``decay``)
    shared = {k: v for k, v in _SHARED_DEFAULTS.items() if takes_any or k in sig.parameters}
    return {**shared, **own}


def space(rule: str) -> dict[str, list]:
    """Values tried for each keyword (the learning rate is fitted, not searched)."""
    vals: dict[str, list] = {}

    def add(k, v):
        if k != "lr" and not any(same(v, w) for w in vals.setdefault(k, [])):
            vals[k].append(v)
    dflt = defaults(rule)
    for row in conventions.rows(rule):
        for k, v in row.refopt_kwargs.items():
            add(k, v)
    for k, vs in conventions.SEARCH_SPACE.get(rule, {}).items():
        for v in vs:
            add(k, v)
    for k in list(vals) + list(_SHARED_DEFAULTS):
        if k in dflt:
            add(k, dflt[k])
    add("maximize", True)
    return vals


def same(a, b) -> bool:
    """Equal values; two nested rules (Muon's ``fallback``) are the same call up to their η."""
    na, nb = conventions.nested_rule(a), conventions.nested_rule(b)
    if na is not None and nb is not None:
        return na[0] == nb[0] and _without_lr(na[1]) == _without_lr(nb[1])
    return type(a) is type(b) and a == b


def _without_lr(kwargs: dict) -> dict:
    return {k: repr(v) for k, v in kwargs.items() if k != "lr"}


def with_lr(kwargs: dict, lr: float) -> dict:
    """``kwargs`` at learning rate ``lr`` (first), a nested rule of a table row included: the
    frameworks give the leaves of Muon's fallback the Muon η (optax passes it on, keras scales
    it by ``adam_lr_ratio`` = 1), so one fitted η sets both. A fallback with an η of its own is
    therefore not searched (a stated limit of ``diagnose``)."""
    out = {"lr": lr}
    for k, v in kwargs.items():
        if k == "lr":
            continue
        nested = conventions.nested_rule(v)
        out[k] = v if nested is None else conventions._rule(nested[0], **{**nested[1], "lr": lr})
    return out


def minimal(rule: str, kwargs: dict) -> dict:
    """``kwargs`` without the arguments equal to the factory's defaults, but always with lr first."""
    dflt = defaults(rule)
    out = {k: v for k, v in kwargs.items() if k == "lr" or not (k in dflt and same(dflt[k], v))}
    if "lr" not in out and "lr" in dflt:
        out["lr"] = dflt["lr"]
    return dict(sorted(out.items(), key=lambda kv: kv[0] != "lr"))


def snap(lr: float) -> float:
    for digits in range(1, 7):
        short = float(f"{lr:.{digits}g}")
        if abs(short - lr) <= 1e-9 * abs(lr):
            return short
    return lr


@functools.lru_cache(maxsize=32)
def unit_steps(rule: str, probes: tuple) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """Every valid configuration of the space, its step-1 displacement d₁ per unit η and the
    η-independent offset of a fixed decay (cached: it does not depend on the candidate). Step 1
    sees only g(θ₀), so for an elementwise rule all probes run as one flat vector."""
    x0s = [p.init("float64") for p in probes]
    g1s = [p.grad(x, 1) for p, x in zip(probes, x0s)]
    extra = [p.extra(SPECS[rule].needs, x, 1) for p, x in zip(probes, x0s)]
    if SPECS[rule].elementwise and not SPECS[rule].needs:
        x0s = [{"x": np.concatenate([np.ravel(v) for x in x0s for v in x.values()])}]
        g1s = [{"x": np.concatenate([np.ravel(v) for g in g1s for v in g.values()])}]
    keys, cfgs, ds, offsets = list(space(rule)), [], [], []
    x0 = np.concatenate([np.ravel(v) for x in x0s for v in x.values()])
    default_decay = defaults(rule).get("decay", "l2")   # Lion's is "decoupled"
    for values in itertools.product(*space(rule).values()):
        cfg = dict(zip(keys, values))
        if cfg.get("weight_decay") == 0.0 and cfg.get("decay", default_decay) != default_decay:
            continue  # the kind of decay is irrelevant without decay: keep the rule's default
        # decay="fixed" moves θ by −λθ whatever η is: step 1 is θ₀ + o + η d₁, with the offset o
        # taken at η = 0 (zero for every other configuration)
        fixed = cfg.get("decay") == "fixed" and cfg.get("weight_decay", 0.0)
        for unit in _UNIT_LRS:
            try:
                steps = []
                for lr in ((unit, 0.0) if fixed else (unit,)):
                    opt = SPECS[rule].build(**with_lr(cfg, lr))
                    d = [opt.update(g, opt.init(x), x, **e)[0] for x, g, e in zip(x0s, g1s, extra)]
                    # in the probes' key order (a rule may return its dict with the keys sorted)
                    steps.append(np.concatenate([np.ravel(tree[k]) for tree, x in zip(d, x0s) for k in x]))
            except (TypeError, ValueError, ZeroDivisionError, FloatingPointError):
                continue  # a combination the rule rejects (at this η)
            cfgs.append(cfg)
            ds.append((steps[0] - (steps[1] if fixed else x0)) / unit)
            offsets.append(steps[1] - x0 if fixed else np.zeros_like(x0))
            break
    return cfgs, np.array(ds), x0, np.array(offsets)


# η at which d₁ is computed: 1, or 0.01 for a configuration that bounds η (Rprop's Δ0 lies in
# [Δmin, Δmax]); d₁ = (θ₁ − θ₀)/η either way, the step being linear in η
_UNIT_LRS = (1.0, 0.01)


@functools.lru_cache(maxsize=8)
def fixed_lr_steps(rule: str, probes: tuple) -> tuple[list[dict], np.ndarray]:
    """For a rule in ``conventions.LR_SEARCHED`` (its first update is not θ₀ + η·d₁): θ₁ of every
    configuration at each η of its table rows and its default η, flattened over ``probes``."""
    x0s = [p.init("float64") for p in probes]
    g1s = [p.grad(x, 1) for p, x in zip(probes, x0s)]
    extra = [p.extra(SPECS[rule].needs, x, 1) for p, x in zip(probes, x0s)]
    lrs = sorted({r.refopt_kwargs["lr"] for r in conventions.rows(rule) if "lr" in r.refopt_kwargs}
                 | {defaults(rule)["lr"]})
    keys, cfgs, thetas = list(space(rule)), [], []
    default_decay = defaults(rule).get("decay", "l2")
    for values in itertools.product(*space(rule).values()):
        cfg = dict(zip(keys, values))
        if cfg.get("weight_decay") == 0.0 and cfg.get("decay", default_decay) != default_decay:
            continue
        for lr in lrs:
            try:
                opt = SPECS[rule].build(**with_lr(cfg, lr))
                out = [opt.update(g, opt.init(x), x, **e)[0] for x, g, e in zip(x0s, g1s, extra)]
            except (TypeError, ValueError, ZeroDivisionError, FloatingPointError):
                continue
            cfgs.append(with_lr(cfg, lr))
            thetas.append(np.concatenate([np.ravel(tree[k]) for tree, x in zip(out, x0s) for k in x]))
    return cfgs, np.array(thetas)


def first_step_fit(d: np.ndarray, c: np.ndarray, x0: np.ndarray) -> list[tuple[float, float]]:
    """Fit η on step 1 (θ₁ − θ₀ = η d₁): the least-squares η (snapped) and the nearest 1-2-5
    value, each with the worst relative error of step 1."""
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(d))) or not np.any(d):
        return []
    fit = float(d @ (c - x0) / (d @ d))
    if fit <= 0:
        return []
    return [(lr, float(np.max(rel_error(c, x0 + lr * d)))) for lr in {snap(fit), _one_two_five(fit)}]


def _one_two_five(x: float) -> float:
    grid = [m * 10.0 ** e for e in range(int(np.floor(np.log10(x))) - 1, int(np.ceil(np.log10(x))) + 1)
            for m in (1, 2, 5)]
    return float(f"{min(grid, key=lambda g: abs(np.log(g / x))):.1g}")
