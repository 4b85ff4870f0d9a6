"""Which configuration of a refopt rule reproduces a candidate? A pruned search of its conventions.

The search space of a rule (:mod:`refopt.conformance.space`) is the product, over its keyword
arguments, of every value that the conventions table (:mod:`refopt.conventions`) uses for it,
the extra switch values in ``SEARCH_SPACE``, and the factory default. The learning rate is not
searched: the first update of
every searched rule is linear in η (θ₁ = θ₀ + η·d₁, decoupled decay included), so η is fitted by
least squares on step 1 and snapped to a short decimal when one is within 1e-9; the nearest
1-2-5 value (…, 1e-3, 2e-3, 5e-3, …) is tried too, so that a candidate whose first step is off by
a factor is compared at its likely learning rate rather than at one that absorbs the factor.
For the few rules whose first update is not linear in η (``conventions.LR_SEARCHED``: FTRL's
closed form, Rprop's one-step-late form whose first update is 0), η is searched instead over the
values of the rule's table rows and its default: such a rule is recovered only at those η.
A rule argument that is itself a rule (Muon's ``fallback``, from a table row) takes the fitted η
too (``space.with_lr``), as the frameworks give it; a fallback with an η of
its own is not searched.

1. Step 1 of every configuration on three probes; keep those within 1e-9 (at most 64).
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

from typing import Any

import numpy as np

from refopt import base, conventions
from refopt.conformance import explain
from refopt.conformance.adapters import Candidate, from_step
from refopt.conformance.compare import F64_TOL, rel_error, trajectory
from refopt.conformance.probes import select
from refopt.conformance.report import Diagnosis, Match
from refopt.conformance.space import first_step_fit, fixed_lr_steps, minimal, same, unit_steps, with_lr
from refopt.registry import SPECS

_STAGE1 = ("quadratic", "eps_sized", "weight_decay")


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
    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


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
    cand = {p.name: trajectory(candidate, p, steps, "float64", SPECS[rule].needs) for p in probes}
    stage1 = [p for p in probes if p.name in _STAGE1] or list(probes[:2])
    cfgs, ds, x0, offsets = unit_steps(rule, tuple(stage1))
    if any(len(cand[p.name][0]) == 0 for p in stage1):
        c = np.full_like(x0, np.nan)   # the candidate raised on its first step
    else:
        c = np.concatenate([cand[p.name][0][0] for p in stage1])
    fits = []   # (best step-1 error, arguments, [configurations with each fitted η])
    for cfg, d, o in zip(cfgs, ds, offsets):
        tries = first_step_fit(d, c, x0 + o)
        if tries:
            fits.append((min(e for _, e in tries), len(minimal(rule, cfg)),
                         [with_lr(cfg, lr) for lr, e in sorted(tries, key=lambda x: x[1])]))
    searched = rule in conventions.LR_SEARCHED
    if searched:   # η is searched over the table's values instead of fitted
        for cfg, theta in zip(*fixed_lr_steps(rule, tuple(stage1))):
            e = float(np.max(rel_error(c, theta)))
            if np.isfinite(e):
                fits.append((e, len(minimal(rule, cfg)), [cfg]))
    fits.sort(key=lambda f: (f[0], f[1]))
    exact = [f[2][0] for f in fits if f[0] <= 1e-9]
    # the table's rows first: many configurations can tie on step 1 (ε floors no probe reaches)
    presets = [r.refopt_kwargs for r in conventions.rows(rule)]
    exact = sorted(exact, key=lambda k: not any(_equal(rule, k, r) for r in presets))
    exact = exact[:256 if searched else 64]
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
