"""Why does a candidate split from its nearest refopt configuration? Decompose the first bad step.

On an open-loop probe both sides see the same gradients g₁, g₂, …, so the step Δθ_t of each side
can be compared term by term at the first step s where they split:

* the ratio Δθ_cand/Δθ_ref is the same for every coordinate → a factor depending on t only (the
  learning rate, its schedule, or the bias correction; for rules with β1, β2 the bias correction
  evaluated at t ± 1 is tested by name);
* for Adam (paper form), the candidate's step is divided into refopt's denominator to give its
  implied first moment, and fitted as Σ_k a_k g_k (a first-moment difference, e.g. a buffer that
  starts at g₁), or into refopt's numerator to give its implied second moment Σ_k b_k g_k²;
* a difference confined to coordinates whose gradient is exactly 0 is zero-gradient handling
  (lazy updates, 0/0); one confined to coordinates with |g| ≲ 1e3·ε is an ε placement;
* otherwise the per-coordinate step differs in some other way, and the ratios are reported.
"""

from __future__ import annotations

import inspect

import numpy as np

from refopt.conformance.compare import F64_TOL, rel_error, trajectory
from refopt.conformance.report import Match
from refopt.registry import SPECS

_OPEN_LOOP = ("growing", "sign_alternating", "sparse", "eps_sized", "large")


def explain(rule: str, nearest: Match, cand: dict, probes) -> tuple[str, dict]:
    head = (f"nearest configuration {nearest.call} splits on probe {nearest.probe!r} at step "
            f"{nearest.first_step} (worst relative error {nearest.max_rel_error:.2e}).")
    best = None
    for p in sorted(probes, key=lambda p: _OPEN_LOOP.index(p.name) if p.name in _OPEN_LOOP else 99):
        traj, _ = cand[p.name]
        if p.name not in _OPEN_LOOP or not len(traj):
            continue
        ref, _ = trajectory(nearest.optimizer, p, len(traj), "float64")
        bad = np.argwhere(rel_error(traj, ref[:len(traj)]) > F64_TOL)
        if len(bad) and (best is None or bad[0][0] < best[0]):
            best = (int(bad[0][0]), p, traj, ref)
    if best is None:
        return head, {"quantity": "unknown"}
    s, p, traj, ref = best
    x0 = np.concatenate([np.ravel(v) for v in p.init("float64").values()])
    prev_c, prev_r = (traj[s - 1], ref[s - 1]) if s else (x0, x0)
    dc, dr = traj[s] - prev_c, ref[s] - prev_r
    grads = _grads(p, s + 1, len(x0))
    quantity, text = _classify(rule, nearest, dc, dr, grads, s + 1)
    return (head + f" On the open-loop probe {p.name!r} the step first differs at t = {s + 1}: "
            + text), {"quantity": quantity, "probe": p.name, "step": s + 1}


def _grads(p, t: int, n: int) -> np.ndarray:
    x = p.init("float64")
    return np.array([np.concatenate([np.ravel(v) for v in p.grad(x, k).values()]) for k in range(1, t + 1)])


def _classify(rule, nearest, dc, dr, grads, t) -> tuple[str, str]:
    live = np.abs(dr) > 1e-300
    ratio = dc[live] / dr[live]
    if len(ratio) and np.allclose(ratio, np.median(ratio), rtol=1e-6, atol=0):
        r = float(np.median(ratio))
        shift = _bias_shift(rule, nearest.kwargs, t, r)
        if shift:
            return "bias correction", (f"every coordinate's step is {r:.6g} × refopt's, as with the bias "
                                       f"corrections evaluated at t{shift:+d}.")
        return "scalar factor", (f"every coordinate's step is {r:.6g} × refopt's: a factor that depends "
                                 "on t only (learning rate, its schedule, or the bias correction).")
    off = ~np.isclose(dc, dr, rtol=1e-9, atol=0)
    if off.any() and np.all(grads[-1][off] == 0):
        return "zero gradients", ("only coordinates whose gradient is exactly 0 at this step differ: "
                                  "the handling of zero gradients (a lazy/sparse update, or 0/0).")
    if rule == "adam" and not nearest.kwargs.get("eps_hat", False):
        found = _adam_terms(nearest, dc, grads, t)
        if found:
            return found
    g = np.abs(grads[-1])
    eps = nearest.kwargs.get("eps", 1e-8)
    if off.any() and np.all(g[off] <= 1e3 * max(eps, 1e-300)):
        return "eps placement", "only coordinates with |g| ≲ 1e3·ε differ: the placement of ε."
    return "per-coordinate step", (f"the ratio of the steps varies across coordinates "
                                   f"({np.min(ratio):.4g} … {np.max(ratio):.4g}).")


def _bias_shift(rule, kwargs, t, observed) -> int:
    # the signature, not __code__: factories are wrapped by base.rule_factory
    if not {"beta1", "beta2"} <= set(inspect.signature(SPECS[rule].factory).parameters):
        return 0
    from refopt.conformance.space import defaults
    b1, b2 = (({**defaults(rule), **kwargs})[k] for k in ("beta1", "beta2"))

    def rho(k, s):
        return (1 - b1 ** s) / (1 - b1 ** (s + k)) * np.sqrt((1 - b2 ** (s + k)) / (1 - b2 ** s))
    for k in (1, -1, 2):
        if t + min(k, 0) < 1:
            continue
        # the learning rate may or may not have absorbed the step-1 factor
        if any(np.isclose(r, observed, rtol=1e-6) for r in (rho(k, t), rho(k, t) / rho(k, 1))):
            return k
    return 0


def _adam_terms(nearest, dc, grads, t):
    from refopt.conformance.space import defaults
    kw = {**defaults(nearest.rule), **nearest.kwargs}
    b1, b2, lr = kw["beta1"], kw["beta2"], kw["lr"]
    w1 = np.array([(1 - b1) * b1 ** (t - k) for k in range(1, t + 1)]) / (1 - b1 ** t)
    w2 = np.array([(1 - b2) * b2 ** (t - k) for k in range(1, t + 1)]) / (1 - b2 ** t)
    m_hat, v_hat = w1 @ grads, w2 @ grads ** 2
    den = np.sqrt(v_hat + kw["eps_root"]) + kw["eps"]
    a = _fit(grads.T, -dc * den / lr)
    if a is not None:
        g1 = np.array([b1 ** (t - 1)] + [(1 - b1) * b1 ** (t - k) for k in range(2, t + 1)])
        what = " — proportional to a buffer that starts at m₁ = g₁" if _proportional(a, g1) else ""
        return "first moment", (f"the candidate's implied first moment is Σ a_k g_k with a = {_fmt(a)}; "
                                f"refopt's is {_fmt(w1)}{what}.")
    den_c = -lr * m_hat / dc
    b = _fit(grads.T ** 2, (den_c - kw["eps"]) ** 2 - kw["eps_root"])
    if b is not None:
        return "second moment", (f"the candidate's implied second moment is Σ b_k g_k² with b = {_fmt(b)}; "
                                 f"refopt's is {_fmt(w2)}.")
    return None


def _fit(x: np.ndarray, y: np.ndarray):
    if x.shape[1] >= x.shape[0] or not np.all(np.isfinite(y)):
        return None
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return coef if np.allclose(x @ coef, y, rtol=1e-6, atol=1e-12 * np.max(np.abs(y))) else None


def _proportional(a, b) -> bool:
    r = a / b
    return bool(np.allclose(r, r[0], rtol=1e-5))


def _fmt(x) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in x) + "]"
