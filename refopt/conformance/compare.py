"""Run a candidate and a refopt rule side by side on the probe battery.

Relative error of a coordinate at step t: |θ_cand − θ_ref| / max(|θ_ref|, 1), i.e. relative for
parameters larger than 1 and absolute below (the probes start at |θ| ≈ 1, so this is the
parameter scale). Tolerances (:func:`tolerance`):

* float64: 1e-12. One step rounds O(10) operations at 2⁻⁵³ ≈ 1.1e-16; the probes run a few
  dozen steps of contractive rules, so honest implementations differ by reordered products and
  square roots only. Measured over 30 steps, every probe and every conventions-table row: ≤ 3e-13
  (torch's SGD on the ``large`` probe, where θ sums terms of size 1e3 with cancellation),
  ≤ 1.8e-13 Keras, ≤ 1.5e-15 optax, ≤ 4e-16 numpy-ml.
* float32: 10 × the drift of refopt's own float32 trajectory from its float64 trajectory on the
  same probe and configuration, and at least 10 × 2⁻²³ (so an exactly representable probe does
  not demand zero). A float32 implementation passes when it is within an order of magnitude of
  refopt's own rounding.

>>> import refopt
>>> from refopt.conformance import compare, from_step
>>> ref = refopt.sgd(lr=0.1)
>>> report = compare(from_step(ref.init, ref.update), ref, probes=["quadratic"], steps=5)
>>> report.passed
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt import base
from refopt.conformance.adapters import Candidate, from_step
from refopt.conformance.probes import Probe, join, select
from refopt.conformance.report import ProbeResult, Report

F64_TOL = 1e-12
F32_FLOOR = 10 * 2.0 ** -23


def trajectory(opt: Any, probe: Probe, steps: int, dtype: str,
               extra_args: frozenset = frozenset()) -> tuple[np.ndarray, str | None]:
    """Flat parameters after each step (shape steps × n); stops early with the error message.

    A refopt rule gets the extra update arguments it declares (``value``: the probe's loss); a
    candidate gets those in ``extra_args`` (the declaration of the rule it is compared with).
    """
    if isinstance(opt, base.Optimizer):
        extra_args = opt.extra_args
        opt = from_step(opt.init, opt.update, name="refopt")
    params = probe.init(dtype)
    out = []
    try:
        state = opt.init({k: v.copy() for k, v in params.items()})
        for t in range(1, steps + 1):
            grads = probe.grad(params, t)
            params, state = opt.update(grads, state, {k: v.copy() for k, v in params.items()},
                                       **probe.extra(extra_args, params, t))
            for k, shape in probe.shapes.items():
                if np.shape(params[k]) != shape:
                    raise ValueError(f"update returned params[{k!r}] of shape {np.shape(params[k])}, "
                                     f"expected {shape}")
            out.append(join(params, probe.shapes).astype(np.float64))
    except Exception as err:  # a candidate that raises fails at that step, with its message
        n = sum(int(np.prod(s)) for s in probe.shapes.values())
        return np.array(out).reshape(len(out), n), f"{type(err).__name__}: {err}"
    return np.array(out), None


def _extra_args(reference: Any) -> frozenset:
    return reference.extra_args if isinstance(reference, base.Optimizer) else frozenset()


def rel_error(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|a − ref| / max(|ref|, 1); 0 where both are equal (±inf included) or both NaN, inf where
    only one is NaN or infinite."""
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - ref) / np.maximum(np.abs(ref), 1.0)
    same = (a == ref) | (np.isnan(a) & np.isnan(ref))
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def tolerance(reference: Any, probe: Probe, steps: int, dtype: str) -> float:
    """1e-12 in float64; in float32, 10 × refopt's own float32-vs-float64 drift (≥ 10·2⁻²³)."""
    if dtype == "float64":
        return F64_TOL
    hi, _ = trajectory(reference, probe, steps, "float64")
    lo, _ = trajectory(reference, probe, steps, "float32")
    n = min(len(hi), len(lo))
    drift = float(np.max(rel_error(lo[:n], hi[:n]), initial=0.0))
    return max(10.0 * drift, F32_FLOOR)


def compare_probe(candidate: Candidate, reference: Any, probe: Probe, steps: int, dtype: str,
                  ref_traj: np.ndarray | None = None) -> ProbeResult:
    tol = tolerance(reference, probe, steps, dtype)
    if ref_traj is None:
        ref_traj, _ = trajectory(reference, probe, steps, "float64")
    cand, error = trajectory(candidate, probe, steps, dtype, _extra_args(reference))
    n = len(cand)
    err = rel_error(cand, ref_traj[:n]) if n else np.zeros((0, 1))
    worst = float(np.max(err, initial=0.0))
    bad = np.argwhere(err > tol)
    if len(bad):
        step, coord = int(bad[0][0]) + 1, _coord_name(probe, int(bad[0][1]))
    elif error is not None:
        step, coord = n + 1, None
    else:
        step = coord = None
    return ProbeResult(probe.name, dtype, steps, worst, tol, step, coord, step is None, error)


def _coord_name(probe: Probe, i: int) -> str:
    for k, s in probe.shapes.items():
        n = int(np.prod(s))
        if i < n:
            return k + ("[" + ", ".join(str(int(j)) for j in np.unravel_index(i, s)) + "]" if s else "")
        i -= n
    return str(i)


def compare(candidate: Candidate, reference: base.Optimizer, *, probes=None, steps: int = 30,
            dtype: str = "float64") -> Report:
    """Run ``candidate`` and the refopt rule ``reference`` on each probe and report agreement.

    Args:
        candidate: from :func:`from_torch`, :func:`from_optax`, :func:`from_keras`, :func:`from_step`
            (a refopt rule is accepted too).
        reference: a refopt rule, e.g. ``refopt.adam(lr=1e-3)``.
        probes: names or :class:`Probe` objects; ``None`` = the whole battery.
        steps: updates per probe.
        dtype: ``"float64"`` or ``"float32"`` — the candidate's dtype; the reference always runs
            in float64 (the truth), and the tolerance follows the dtype (module docstring).
    """
    base.check_choice("dtype", dtype, ("float64", "float32"))
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if isinstance(candidate, base.Optimizer):
        candidate = from_step(candidate.init, candidate.update, name="refopt rule")
    results = tuple(compare_probe(candidate, reference, p, steps, dtype) for p in select(probes))
    return Report(candidate.name, results)
