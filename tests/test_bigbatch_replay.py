"""Big Batch SGD replayed by hand with |B| < N (proof page rule-bigbatch; issue 18).

At full batch the finite-population correction, the Barzilai–Borwein averaging and noise factor
and the growth-then-doubling of the Armijo rule all vanish or cancel, so the other tests cannot
see them. Here a replay written from the rule's documented algorithm — per-example gradients
(x_nᵀw − y_n) x_n of a least-squares finite sum formed directly from (X, y), the norm test
V_B/|B| · φ ≤ θ²‖ḡ_B‖², growth by max(1, ⌊δ_b|B|⌋), the three step rules — is compared with
``refopt.bigbatch`` iteration by iteration on runs that stay below N. Each scenario also
asserts that the replay met the situation it is there for (growth that stops below N, a test
decided by φ, backtracking, doubling after growth, a noise-corrected BB step below N), so a
scenario that stopped exercising its term would fail rather than pass vacuously.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

import refopt
from refopt.problems import LeastSquares
from refopt.research import run_bigbatch

EPS = float(np.finfo(np.float64).eps)


def _problem(n=24, d=3, noise=0.8, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return LeastSquares(X, X @ np.array([1.0, -2.0, 0.5]) + noise * rng.standard_normal(n))


def _replay(prob, x0, iters, *, lr, theta, batch_size, growth, step_rule="fixed", armijo_c=0.1,
            finite_population=False, seed=0):
    """The documented iteration, from (X, y) alone; returns per-iteration records and events."""
    X, y, n = prob.X, prob.y, prob.n_examples

    def grads(w, idx):          # per-example ∇ℓ_j(w) = (x_jᵀw − y_j) x_j, one row each
        return (X[idx] @ w - y[idx])[:, None] * X[idx]

    def loss(w, idx):           # ℓ_B(w) = (1/|B|) Σ_j ½ (x_jᵀw − y_j)²
        return float(np.mean(0.5 * (X[idx] @ w - y[idx]) ** 2))

    w, prev, k_carry, alpha = np.array(x0, float), np.zeros_like(x0, dtype=float), batch_size, lr
    examples = loss_examples = 0
    events: Counter = Counter()
    records = []
    for t in range(1, iters + 1):
        perm = np.random.default_rng([seed, t]).permutation(n)
        k, grew = min(k_carry, n), False
        while True:
            g = grads(w, perm[:k])
            gbar = g.mean(axis=0)
            gsq = float(gbar @ gbar)
            var = float(np.sum((g - gbar) ** 2)) / (k - 1) if k > 1 else math.inf
            phi = (n - k) / (n - 1) if finite_population else 1.0
            passed = (var / k) * phi <= theta ** 2 * gsq if math.isfinite(var) else \
                (k == n and finite_population)
            if passed and var / k > theta ** 2 * gsq:
                events["decided_by_phi"] += 1
            if passed or k >= n:
                break
            k += min(n - k, max(1, math.floor(growth * k)))
            grew = True
        events["grew_below_n"] += grew and k < n
        k_carry = k                    # K never shrinks
        examples += k                  # the growth reuses the gradients already computed
        idx = perm[:k]
        if step_rule == "bb" and t >= 2:
            examples += k
            dx, dg = w - prev, gbar - grads(prev, idx).mean(axis=0)
            nu = float(dx @ dg) / float(dx @ dx)
            if nu > 0:
                noise = var / (k * gsq) if k < n else 0.0
                alpha_tilde = (1.0 - noise) / nu
                if alpha_tilde > 0:
                    alpha = (1.0 - k / n) * alpha + (k / n) * alpha_tilde
                    events["bb_below_n"] += k < n and noise > 0
        if step_rule == "armijo" and grew:
            alpha *= 2.0
            events["doubled_below_n"] += k < n
        batch_loss = math.nan
        if step_rule in ("armijo", "bb"):
            batch_loss = loss(w, idx)
            loss_examples += k
            slack = 8.0 * EPS * abs(batch_loss)
            while True:
                loss_examples += k
                if loss(w - alpha * gbar, idx) <= batch_loss - armijo_c * alpha * gsq + slack:
                    break
                alpha *= 0.5
                events["halved"] += 1
        prev, w = w, w - alpha * gbar
        records.append(dict(params=w, batch_size=k, lr=alpha, examples=examples,
                            loss_examples=loss_examples, grew=grew, passed=passed, grad_sq=gsq,
                            variance=var, batch_loss=batch_loss))
    return records, events


SCENARIOS = {
    # name: (bigbatch arguments, N, iterations, events the run must contain)
    "fixed-two-pass": (dict(lr=0.1, theta=0.6, batch_size=2, growth=0.5), 100, 14, ("grew_below_n",)),
    "fixed-norms": (dict(lr=0.1, theta=0.6, batch_size=2, growth=0.5, variance="norms"), 100, 14,
                    ("grew_below_n",)),
    "fixed-finite-population": (dict(lr=0.1, theta=0.6, batch_size=2, growth=0.5,
                                     finite_population=True), 24, 10,
                                ("grew_below_n", "decided_by_phi")),
    "armijo": (dict(lr=1.5, theta=0.6, batch_size=2, growth=0.5, step_rule="armijo"), 40, 4,
               ("grew_below_n", "doubled_below_n", "halved")),
    "bb": (dict(lr=0.05, theta=0.9, batch_size=3, growth=0.5, step_rule="bb"), 100, 14,
           ("bb_below_n",)),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_bigbatch_below_full_batch_matches_the_hand_replay(name):
    kwargs, n, iters, needed = SCENARIOS[name]
    prob, x0 = _problem(n=n), np.array([3.0, 3.0, -3.0])
    replay_kwargs = {k: v for k, v in kwargs.items() if k != "variance"}
    records, events = _replay(prob, x0, iters, seed=5, **replay_kwargs)
    for event in needed:
        assert events[event] > 0, f"scenario {name} no longer exercises {event}: {dict(events)}"
    assert all(r["batch_size"] < prob.n_examples for r in records)
    opt = refopt.bigbatch(seed=5, **kwargs)
    x, state = x0.copy(), opt.init(x0)
    for t, want in enumerate(records, start=1):
        x, state = opt.update(None, state, x, objective=prob)
        where = f"{name}, iteration {t}"
        for key in ("batch_size", "examples", "loss_examples", "grew", "passed"):
            assert getattr(state, key) == want[key], f"{where}: {key}"
        # rtol: per-example means vs Xᵀr/|B| sum in a different order; 14 steps of rounding
        np.testing.assert_allclose(x, want["params"], rtol=1e-11, err_msg=where)
        for key in ("lr", "grad_sq", "variance"):
            assert getattr(state, key) == pytest.approx(want[key], rel=1e-9), f"{where}: {key}"


def _first_stop(states, values, previous0, *, n, tol_grad=None, tol_objective=None,
                stop_at_full_batch=True):
    """The documented stopping order: grad, full_batch, objective (budgets never hit here)."""
    previous = previous0
    for i, (s, current) in enumerate(zip(states, values)):
        if tol_grad is not None and s.passed and s.grad_sq <= tol_grad:
            return i + 1, "grad"
        if stop_at_full_batch and s.batch_size >= n and not s.passed:
            return i + 1, "full_batch"
        if tol_objective is not None and abs(current - previous) <= tol_objective * max(1.0, abs(previous)):
            return i + 1, "objective"
        previous = current
    return len(states), "max_iters"


@pytest.mark.parametrize("stop", [
    # near the noisy optimum the full batch fails the test while ‖ḡ‖² is tiny: no "grad" stop
    dict(tol_grad=1e-2, stop_at_full_batch=False),
    # tol_grad bounds ‖ḡ‖² (not ‖ḡ‖): a passing batch with 1e-4 < ‖ḡ‖² ≤ 1e-2 stops (step 29);
    # the batch reaches N at step 9 and still passes (finite population), so it goes on
    dict(tol_grad=1e-2, start=(1.2, -1.8, 0.4), finite_population=True),
    # with finite_population the test always passes at N, so reaching N is not a stop
    dict(tol_objective=1e-9, finite_population=True),
    # the objective tolerance is relative to max(1, |ℓ|): ℓ ≈ 30 here, so it stops at step 11
    # where an absolute 2e-2 would never stop within 40
    dict(tol_objective=2e-2, y_shift=8.0, stop_at_full_batch=False),
])
def test_run_bigbatch_stops_at_the_first_documented_criterion(stop):
    stop = dict(stop)
    start = np.array(stop.pop("start", (1.0, -2.0, 0.5)))
    fpc = stop.pop("finite_population", False)
    prob = _problem()
    if "y_shift" in stop:
        prob = LeastSquares(prob.X, prob.y + stop.pop("y_shift"))
    kwargs = dict(lr=0.05, theta=0.5, batch_size=4, growth=0.5, seed=2, finite_population=fpc)
    opt = refopt.bigbatch(**kwargs)
    x, state, states, values = start.copy(), opt.init(start), [], []
    for _ in range(40):
        x, state = opt.update(None, state, x, objective=prob)
        states.append(state)
        values.append(float(prob.value(x)))
    iters, reason = _first_stop(states, values, float(prob.value(start)), n=prob.n_examples, **stop)
    res = run_bigbatch(prob, start, max_iters=40, **stop, **kwargs)
    assert (len(res.history["batch_size"]), res.stop_reason) == (iters, reason)
    np.testing.assert_array_equal(res.history["objective"], values[:iters])


@pytest.mark.parametrize("margin, grows", [(0.99, True), (1.01, False)])
def test_finite_population_factor_at_the_boundary_of_the_norm_test(margin, grows):
    """θ² set to margin · (V_B/|B|) φ / ‖ḡ_B‖² with φ = (N − |B|)/(N − 1), from the first batch
    computed by hand: just below the boundary the batch must grow, just above it must not.
    (With φ = (N − |B|)/N, 4% smaller at N = 24, the 0.99 case would pass without growing.)"""
    prob, x0, n, k = _problem(n=24), np.array([0.8, -1.5, 0.2]), 24, 6
    idx = np.random.default_rng([4, 1]).permutation(n)[:k]
    g = (prob.X[idx] @ x0 - prob.y[idx])[:, None] * prob.X[idx]
    gbar = g.mean(axis=0)
    var = float(np.sum((g - gbar) ** 2)) / (k - 1)
    theta = math.sqrt(margin * (var / k) * (n - k) / (n - 1) / float(gbar @ gbar))
    opt = refopt.bigbatch(lr=0.1, theta=theta, batch_size=k, growth=0.5, finite_population=True, seed=4)
    _, state = opt.update(None, opt.init(x0), x0, objective=prob)
    assert state.grew is grows and (state.batch_size > k) is grows


class _ShortNorms(LeastSquares):
    """Per-example squared norms for all but the last example of the batch."""

    def example_grad_sq_norms(self, w, idx):
        return super().example_grad_sq_norms(w, idx)[:-1]


def test_norms_variance_refuses_squared_norms_of_the_wrong_length():
    """A short vector of ‖g_j‖² would silently shrink Σ‖g_j‖² and the variance V_B with it."""
    prob = _problem(n=12)
    bad = _ShortNorms(prob.X, prob.y)
    opt = refopt.bigbatch(lr=0.1, batch_size=4, variance="norms")
    x0 = np.zeros(3)
    with pytest.raises(ValueError, match=r"example_grad_sq_norms must return an array of shape \(4,\)"):
        opt.update(None, opt.init(x0), x0, objective=bad)
