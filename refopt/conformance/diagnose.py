"""Which configuration of a refopt rule reproduces a candidate? A pruned search of its conventions.

The search space of a rule is the product, over its keyword arguments, of every value that the
conventions table (:mod:`refopt.conventions`) uses for it, the extra switch values in
``SEARCH_SPACE``, and the factory default. The learning rate is not searched: the first update of
every searched rule is linear in η (θ₁ = θ₀ + η·d₁, decoupled decay included), so η is fitted by
least squares on step 1 and snapped to a short decimal when one is within 1e-9.

1. Step 1 of every configuration on four probes; keep those within 1e-9 (at most 64).
2. Steps 1–3 on every probe; keep the ten best.
3. The full trajectories (``steps``) on every probe; rank by worst relative error. Ties between
   reproducing configurations go to a table row, then to the fewest non-default arguments.

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
    """``kwargs`` without the arguments equal to the factory's defaults (lr first)."""
    dflt = defaults(rule)
    out = {k: v for k, v in kwargs.items() if not (k in dflt and _same(dflt[k], v))}
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
    it does not depend on the candidate)."""
    keys, cfgs, ds = list(space(rule)), [], []
    x0 = np.concatenate([np.concatenate([np.ravel(v) for v in p.init("float64").values()]) for p in probes])
    for values in itertools.product(*space(rule).values()):
        cfg = dict(zip(keys, values))
        try:
            opt = SPECS[rule].build(lr=1.0, **cfg)
        except (TypeError, ValueError):
            continue  # a combination the rule rejects
        one = [trajectory(opt, p, 1, "float64") for p in probes]
        if any(err for _, err in one):
            continue
        cfgs.append(cfg)
        ds.append(np.concatenate([traj[0] for traj, _ in one]) - x0)
    return cfgs, np.array(ds), x0


def _first_step_fit(d: np.ndarray, c: np.ndarray, x0: np.ndarray) -> tuple[float, float]:
    """Fit η on step 1 (θ₁ − θ₀ = η d₁); return (η, worst relative error of the fit)."""
    if not np.all(np.isfinite(c)) or not np.any(d):
        return float("nan"), np.inf
    lr = snap(float(d @ (c - x0) / (d @ d)))
    if lr <= 0:
        return lr, np.inf
    return lr, float(np.max(rel_error(c, x0 + lr * d)))


def _score(rule: str, kwargs: dict, cand: dict, probes, steps: int) -> Match:
    worst, probe, split = 0.0, None, None
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
        if first is not None and (split is None or first < split[0]):
            split = (first, p.name)
    if split is not None:
        probe = split[1]
    return Match(rule, kwargs, worst, probe, None if split is None else split[0],
                 tuple(sorted({r.target for r in conventions.rows(rule) if _equal(rule, r.refopt_kwargs, kwargs)})))


def _equal(rule: str, a: dict, b: dict) -> bool:
    a, b = minimal(rule, a), minimal(rule, b)
    return a.keys() == b.keys() and all(_same(a[k], b[k]) or (k == "lr" and np.isclose(a[k], b[k], rtol=1e-9))
                                        for k in a)


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
    fits = []
    for cfg, d in zip(cfgs, ds):
        lr, err = _first_step_fit(d, c, x0)
        fits.append((err, len(minimal(rule, cfg)), {"lr": lr, **cfg}))
    fits.sort(key=lambda f: (f[0], f[1]))
    kept = [f[2] for f in fits if f[0] <= 1e-9][:64] or [f[2] for f in fits[:10]]
    short = sorted((_score(rule, k, cand, probes, 3) for k in kept), key=lambda m: m.max_rel_error)
    ranked = [_score(rule, minimal(rule, m.kwargs), cand, probes, steps) for m in short[:10]]
    ranked.sort(key=lambda m: (m.first_step is not None, m.max_rel_error if m.first_step else 0.0,
                               not m.conventions, len(m.kwargs)))
    match = ranked[0] if ranked and ranked[0].first_step is None else None
    text, details = ("", {}) if match or not ranked else explain.explain(rule, ranked[0], cand, probes)
    return Diagnosis(candidate.name, rule, match, tuple(ranked), text, details)


def _rule_name(rule: Any) -> str:
    if isinstance(rule, str):
        base.check_choice("rule", rule, list(SPECS))
        return rule
    for name, spec in SPECS.items():
        if spec.factory is rule:
            return name
    raise ValueError(f"rule must be a registry name or a refopt factory, got {rule!r}")
