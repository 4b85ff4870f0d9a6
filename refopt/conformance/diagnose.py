"""Which configuration of a refopt rule reproduces a candidate? A pruned search of its conventions.

The search space of a rule is the product, over its keyword arguments, of every value that the
conventions table (:mod:`refopt.conventions`) uses for it, the extra switch values in
``SEARCH_SPACE``, and the factory default. The learning rate is not searched: the first update of
every searched rule is linear in η (θ₁ = θ₀ + η·d₁, decoupled decay included), so η is fitted by
least squares on step 1 and snapped to a short decimal when one is within 1e-9; the nearest
1-2-5 value (…, 1e-3, 2e-3, 5e-3, …) is tried too, so that a candidate whose first step is off by
a factor is compared at its likely learning rate rather than at one that absorbs the factor.

1. Step 1 of every configuration on four probes; keep those within 1e-9 (at most 64).
2. Steps 1–3 on every probe; keep the ten best.
3. The full trajectories (``steps``) on every probe. Reproducing configurations rank first (a
   table row before others, then the fewest non-default arguments); the rest by the number of
   probes they reproduce, the step where they split (later is nearer), the number of arguments,
   a short-decimal η, and the worst relative error.

>>> import refopt
>>> from refopt.conformance import diagnose, from_step
>>> secret = refopt.rmsprop(lr=0.02, rho=0.99, eps_inside=False)
>>> d = diagnose(from_step(secret.init, secret.update), "rmsprop", steps=8)
>>> print(d.match.call)
refopt.rmsprop(lr=0.02, rho=0.99, eps_inside=False)
"""

from __future__ import annotations

import functools
import inspect
import itertools
from typing import Any

import numpy as np

from refopt import base, conventions
from refopt.conformance import explain
from refopt.conformance.adapters import Candidate, from_step
from refopt.conformance.compare import F64_TOL, rel_error, trajectory
from refopt.conformance.probes import select
from refopt.conformance.report import Diagnosis, Match
from refopt.registry import SPECS

_SHARED_DEFAULTS = {"weight_decay": 0.0, "decay": "l2", "maximize": False}
_STAGE1 = ("quadratic", "eps_sized", "weight_decay")


def defaults(rule: str) -> dict:
    sig = inspect.signature(SPECS[rule].factory)
    own = {k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}
    return {**_SHARED_DEFAULTS, **own}


def space(rule: str) -> dict[str, list]:
    """Values tried for each keyword (the learning rate is fitted, not searched)."""
    vals: dict[str, list] = {}

    def add(k, v):
        if k != "lr" and not any(_same(v, w) for w in vals.setdefault(k, [])):
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


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def minimal(rule: str, kwargs: dict) -> dict:
    """``kwargs`` without the arguments equal to the factory's defaults, but always with lr first."""
    dflt = defaults(rule)
    out = {k: v for k, v in kwargs.items() if k == "lr" or not (k in dflt and _same(dflt[k], v))}
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
def _unit_steps(rule: str, probes: tuple) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Every valid configuration of the space and its step-1 displacement d₁ at η = 1 (cached:
    it does not depend on the candidate). Step 1 sees only g(θ₀), so for an elementwise rule
    all probes run as one flat vector."""
    x0s = [p.init("float64") for p in probes]
    g1s = [p.grad(x, 1) for p, x in zip(probes, x0s)]
    if SPECS[rule].elementwise:
        x0s = [{"x": np.concatenate([np.ravel(v) for x in x0s for v in x.values()])}]
        g1s = [{"x": np.concatenate([np.ravel(v) for g in g1s for v in g.values()])}]
    keys, cfgs, ds = list(space(rule)), [], []
    for values in itertools.product(*space(rule).values()):
        cfg = dict(zip(keys, values))
        if cfg.get("weight_decay") == 0.0 and cfg.get("decay", "l2") != "l2":
            continue  # the kind of decay is irrelevant without decay
        try:
            opt = SPECS[rule].build(lr=1.0, **cfg)
            d = [opt.update(g, opt.init(x), x)[0] for x, g in zip(x0s, g1s)]
        except (TypeError, ValueError, ZeroDivisionError, FloatingPointError):
            continue  # a combination the rule rejects
        cfgs.append(cfg)
        ds.append(np.concatenate([np.ravel(v) for tree in d for v in tree.values()]))
    x0 = np.concatenate([np.ravel(v) for x in x0s for v in x.values()])
    return cfgs, np.array(ds) - x0, x0


def _first_step_fit(d: np.ndarray, c: np.ndarray, x0: np.ndarray) -> list[tuple[float, float]]:
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


def _score(rule: str, kwargs: dict, cand: dict, probes, steps: int) -> Match:
    worst, probe, split, passed = 0.0, None, None, 0
    for p in probes:
        traj, err = cand[p.name]
        n = min(steps, len(traj))
        ref, ref_err = trajectory(SPECS[rule].build(**kwargs), p, n, "float64")
        e = rel_error(traj[:n], ref[:n]) if len(ref) == n else np.full((n, 1), np.inf)
        bad = np.argwhere(e > F64_TOL)
        first = int(bad[0][0]) + 1 if len(bad) else (n + 1 if err and n < steps else None)
        e_max = float(np.max(e, initial=np.inf if err and n < steps else 0.0))
        if e_max > worst or probe is None:
            worst, probe = e_max, p.name
        passed += first is None
        if first is not None and (split is None or first < split[0]):
            split = (first, p.name)
    if split is not None:
        probe = split[1]
    rows = tuple(sorted({r.target for r in conventions.rows(rule) if _equal(rule, r.refopt_kwargs, kwargs)}))
    return Match(rule, kwargs, worst, probe, None if split is None else split[0], rows, passed)


def _equal(rule: str, a: dict, b: dict) -> bool:
    """Same configuration up to the learning rate (a row names a convention, not an η)."""
    a, b = minimal(rule, a), minimal(rule, b)
    a.pop("lr", None)
    b.pop("lr", None)
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)


def diagnose(candidate: Candidate, rule: Any, *, probes=None, steps: int = 12) -> Diagnosis:
    """Search ``rule``'s convention space for the configurations that reproduce ``candidate``.

    Args:
        candidate: an adapter from :mod:`refopt.conformance` (or a refopt rule).
        rule: a registry name (``"adam"``) or a refopt factory (``refopt.adam``).
        probes: probe names or objects (``None``: the whole battery).
        steps: updates per probe in the final ranking.

    Returns a :class:`~refopt.conformance.Diagnosis`: ``match`` (``.call``, ``.optimizer``) or
    None, the ranked ``candidates`` and, when nothing matches, an ``explanation`` naming the
    nearest configuration, the probe and step where they split and the quantity that differs.
    """
    rule = _rule_name(rule)
    if isinstance(candidate, base.Optimizer):
        candidate = from_step(candidate.init, candidate.update, name="refopt rule")
    probes = select(probes)
    with np.errstate(all="ignore"):   # searched configurations may overflow or take √ of < 0
        return _diagnose(candidate, rule, probes, steps)


def _diagnose(candidate: Candidate, rule: str, probes, steps: int) -> Diagnosis:
    cand = {p.name: trajectory(candidate, p, steps, "float64") for p in probes}
    stage1 = [p for p in probes if p.name in _STAGE1] or list(probes[:2])
    cfgs, ds, x0 = _unit_steps(rule, tuple(stage1))
    if any(len(cand[p.name][0]) == 0 for p in stage1):
        c = np.full_like(x0, np.nan)   # the candidate raised on its first step
    else:
        c = np.concatenate([cand[p.name][0][0] for p in stage1])
    fits = []   # (best step-1 error, arguments, [configurations with each fitted η])
    for cfg, d in zip(cfgs, ds):
        tries = _first_step_fit(d, c, x0)
        if tries:
            fits.append((min(e for _, e in tries), len(minimal(rule, cfg)),
                         [{"lr": lr, **cfg} for lr, e in sorted(tries, key=lambda x: x[1])]))
    fits.sort(key=lambda f: (f[0], f[1]))
    exact = [f[2][0] for f in fits if f[0] <= 1e-9][:64]
    # nothing exact: the best step-1 fits, and the simplest configurations (nearest by Occam)
    simple = sorted(fits, key=lambda f: (f[1], f[0]))[:12]
    kept = exact or [k for f in fits[:12] + simple for k in f[2]]
    short = sorted((_score(rule, k, cand, probes, 3) for k in kept), key=_rank)
    ranked = sorted((_score(rule, minimal(rule, m.kwargs), cand, probes, steps) for m in short[:10]),
                    key=_rank)
    match = ranked[0] if ranked and ranked[0].first_step is None else None
    text, details = ("", {}) if match or not ranked else explain.explain(rule, ranked[0], cand, probes)
    return Diagnosis(candidate.name, rule, match, tuple(ranked), text, details)


def _rank(m: Match) -> tuple:
    """Reproducing first (a table row, then fewest arguments); then most probes passed, latest
    split, fewest arguments, a short-decimal η, smallest error."""
    if m.first_step is None:
        return (0, not m.conventions, len(m.kwargs))
    lr = m.kwargs.get("lr", 0.0)
    return (1, -m.passed_probes, -m.first_step, len(m.kwargs), float(f"{lr:.6g}") != lr, m.max_rel_error)


def _rule_name(rule: Any) -> str:
    if isinstance(rule, str):
        base.check_choice("rule", rule, list(SPECS))
        return rule
    for name, spec in SPECS.items():
        if spec.factory is rule:
            return name
    raise ValueError(f"rule must be a registry name or a refopt factory, got {rule!r}")
