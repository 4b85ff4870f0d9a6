"""The strong-Wolfe line search and its cubic step on one-dimensional functions with known
answers (proofs/rules/lbfgs.md)."""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt.optim.wolfe import cubic_minimiser, strong_wolfe


def test_cubic_minimiser_is_exact_on_a_cubic():
    """f(t) = t³ − 3t has its local minimum at t = 1; the two-point cubic recovers it."""
    assert cubic_minimiser(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, 0.0, 2.0) == pytest.approx(1.0, abs=1e-15)
    assert cubic_minimiser(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, 0.0, 0.5) == 0.5          # clipped
    # no real minimiser (a² < d1·d2): the midpoint of the bounds
    assert cubic_minimiser(0.0, 0.0, 1.0, 1.0, 2.0 / 3.0, 1.0, 0.0, 4.0) == 2.0


@pytest.mark.parametrize("t0", [1e-3, 0.5, 40.0])   # extrapolate, accept, zoom back
def test_strong_wolfe_step_satisfies_both_conditions(t0):
    """φ(t) = (t − 3)² + 0.1 sin(5t) along d = 1 from 0 (φ'(0) < 0)."""
    def phi(t):
        return (t - 3.0) ** 2 + 0.1 * np.sin(5 * t), None, 2 * (t - 3.0) + 0.5 * np.cos(5 * t)

    f0, _, s0 = phi(0.0)
    c1, c2 = 1e-4, 0.9
    t, f, _ = strong_wolfe(phi, t0, f0, s0, 1.0, c1=c1, c2=c2, tolerance_change=1e-12, max_ls=25)
    assert f <= f0 + c1 * t * s0                        # sufficient decrease
    assert abs(phi(t)[2]) <= c2 * abs(s0)               # curvature (strong form)


def test_lbfgs_wolfe_rejects_bad_calls_and_configs():
    opt = refopt.lbfgs_wolfe()
    x = np.ones(2)
    with pytest.raises(ValueError, match="objective is required"):
        opt.update(None, opt.init(x), x)
    with pytest.raises(ValueError, match="grads must be None"):
        opt.update(x, opt.init(x), x, objective=object())
    with pytest.raises(ValueError, match="c2 must be in"):
        refopt.lbfgs_wolfe(c1=0.5, c2=0.4)
    with pytest.raises(ValueError, match="max_ls must be an integer >= 1"):
        refopt.lbfgs_wolfe(max_ls=0)
    with pytest.raises(TypeError, match="max_ls must be an integer >= 1"):
        refopt.lbfgs_wolfe(max_ls=True)                 # a boolean is not a count


def test_lbfgs_wolfe_with_a_zero_learning_rate_takes_no_step():
    """η_t = 0 makes the first trial point θ itself: no step (it divided 0/0 in the cubic before),
    and the next non-zero η moves as from a fresh start."""
    from refopt.problems import Quadratic
    f = Quadratic([1.0, 3.0], seed=0)
    opt = refopt.lbfgs_wolfe(lr=lambda t: 0.0 if t == 1 else 1.0)
    x0 = np.array([2.0, -1.0])
    x1, s = opt.update(None, opt.init(x0), x0, objective=f)
    np.testing.assert_array_equal(x1, x0)
    x2, _ = opt.update(None, s, x1, objective=f)
    assert f.value(x2) < f.value(x0)


def test_three_point_cubic_and_quadratic_fits_are_exact():
    """p(t) = (t − 1)³ − 3(t − 1) + 2 has its local minimum at t = 2; the cubic through (0, p, p'),
    (3, p) and (−1, p) recovers it; the quadratic (t − 0.5)² through (0, p, p') and (2, p) gives 0.5.
    Degenerate fits (two equal points) give NaN, which the zoom treats as "no interpolated point"."""
    import math

    from refopt.optim.zoom import cubic_through, quadratic_through

    def p(t):
        return (t - 1.0) ** 3 - 3.0 * (t - 1.0) + 2.0
    assert cubic_through(0.0, p(0.0), 0.0, 3.0, p(3.0), -1.0, p(-1.0)) == pytest.approx(2.0, abs=1e-14)
    assert quadratic_through(0.0, 0.25, -1.0, 2.0, 2.25) == pytest.approx(0.5, abs=1e-15)
    assert math.isnan(cubic_through(0.0, 1.0, -1.0, 0.0, 1.0, 2.0, 3.0))
    assert math.isnan(quadratic_through(1.0, 1.0, -1.0, 1.0, 1.0))


@pytest.mark.parametrize("guess", [1e-3, 1.0, 40.0])   # double many times, accept, zoom back
@pytest.mark.parametrize("approx", [None, 1e-6])
def test_doubling_zoom_step_satisfies_both_conditions(guess, approx):
    """φ(t) = (t − 3)² + 0.1 sin(5t) (as above): the returned step has decrease error 0 (Armijo
    here: φ is far from flat, so the approximate test cannot be what accepts it) and small curvature."""
    from refopt.optim.zoom import doubling_zoom

    def phi(t):
        return (t - 3.0) ** 2 + 0.1 * np.sin(5 * t), None, 2 * (t - 3.0) + 0.5 * np.cos(5 * t)

    f0, _, s0 = phi(0.0)
    t, f, _ = doubling_zoom(phi, guess, f0, None, s0, c1=1e-4, c2=0.9, max_ls=30,
                            approx_decrease=approx, interval_threshold=1e-9)
    assert f <= f0 + 1e-4 * t * s0
    assert abs(phi(t)[2]) <= 0.9 * abs(s0)


def test_strong_wolfe_with_zero_tolerance_change_stops_on_a_zero_width_bracket():
    """With tolerance_change = 0 nothing else ends a zoom whose bracket has shrunk to one point;
    the cubic through two equal points divided by zero there (this logistic regression reached
    it at iteration 15). The search now returns that point, and the run converges."""
    from refopt.problems.classification import LogisticRegression
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    y = (X @ rng.standard_normal(5) + 0.5 * rng.standard_normal(40) > 0).astype(float)
    prob = LogisticRegression(X, y, l2=0.01)

    class Objective:
        def value_and_grad(self, x):
            return prob.value(x), prob.grad(x)

    opt = refopt.lbfgs_wolfe(tolerance_change=0.0, tolerance_grad=0.0, first_step_norm="l2",
                             min_curvature=None)
    x = x0 = rng.standard_normal(5)
    state = opt.init(x)
    for _ in range(40):
        x, state = opt.update(None, state, x, objective=Objective())
    # converged to where the line search's values stop resolving (measured ‖g‖ = 5.6e-10)
    assert np.linalg.norm(prob.grad(x)) < 1e-8 * np.linalg.norm(prob.grad(x0))


def test_lbfgs_wolfe_first_two_steps_match_exact_arithmetic():
    """f = ½xᵀAx, A = diag(1, 3), x₀ = (2, −1), in exact rationals (SymPy): step 1 tries
    t = 1/‖g₀‖₁ = 1/5 along −g₀, which satisfies both Wolfe conditions (checked exactly), so
    x₁ = (8/5, −2/5); step 2 is d = −H₁g₁ with H₁ the BFGS update of γI (γ = ⟨s, y⟩/⟨y, y⟩)
    by (s, y), tried at t = 1 and again accepted (checked). rtol 1e-14: a few float roundings."""
    import sympy as sp
    R = sp.Rational
    A = sp.diag(1, 3)

    def f(x):
        return (x.T * A * x)[0] / 2

    c1, c2 = R(1, 10**4), R(9, 10)   # lbfgs_wolfe's defaults

    def wolfe(x, d, t):
        slope0, slope_t = (A * x).dot(d), (A * (x + t * d)).dot(d)
        return f(x + t * d) <= f(x) + c1 * t * slope0 and abs(slope_t) <= c2 * abs(slope0)

    x0 = sp.Matrix([2, -1])
    g0 = A * x0
    d0 = -g0
    t0 = 1 / sum(abs(v) for v in g0)
    assert wolfe(x0, d0, t0)
    x1 = x0 + t0 * d0
    g1 = A * x1
    s, y = x1 - x0, g1 - g0
    rho, gamma = 1 / s.dot(y), s.dot(y) / y.dot(y)
    V = sp.eye(2) - rho * y * s.T
    H = V.T * (gamma * sp.eye(2)) * V + rho * s * s.T
    d1 = -H * g1
    assert wolfe(x1, d1, 1)
    x2 = x1 + d1

    class Objective:
        def value_and_grad(self, x):
            return 0.5 * x @ np.diag([1.0, 3.0]) @ x, np.diag([1.0, 3.0]) @ x

    opt = refopt.lbfgs_wolfe()
    x, state = np.array([2.0, -1.0]), opt.init(np.zeros(2))
    got = []
    for _ in range(2):
        x, state = opt.update(None, state, x, objective=Objective())
        got.append(x)
    np.testing.assert_allclose(got, np.array([list(x1), list(x2)], dtype=float), rtol=1e-14, atol=0)


def _counterexample():
    """The fourth thorough run's factorisation (2×2, rank 1, seed 1, ‖M‖₂ = 1) and start (seed 0):
    its path from small layers crosses negative curvature next to the saddle at the origin."""
    from refopt.problems import MatrixFactorisation
    prob = MatrixFactorisation(2, 2, 1, seed=1)
    prob.M = prob.M / float(np.linalg.norm(prob.M, 2))
    return prob, prob.random_point(0, 0.5)


def _inverse_hessian(state, dim):
    """The H that ``two_loop`` applies, column by column, for a flat {"U", "V"} of 2×1 leaves."""
    from refopt.optim.lbfgs import two_loop
    pairs = tuple(zip(state.s, state.y, state.rho))
    cols = []
    for e in np.eye(dim):
        r = two_loop({"U": e[:2, None], "V": e[2:, None]}, pairs, state.gamma)
        cols.append(np.concatenate([r["U"].ravel(), r["V"].ravel()]))
    return np.array(cols).T


def _flat(t):
    return np.concatenate([t["U"].ravel(), t["V"].ravel()])


def _run(opt, prob, x0, steps):
    """The iterates x_1..x_steps of ``opt`` on ``prob``."""
    x, state, xs = x0, opt.init(x0), []
    for _ in range(steps):
        x, state = opt.update(prob.grad(x), state, x)
        xs.append(x)
    return xs


def test_cautious_pairs_bound_the_inverse_hessian():
    """lem-lbfgs-cautious on a run: with min_curvature_ratio = c every stored pair has
    ⟨s,y⟩ ≥ c‖s‖², and H's eigenvalues lie in [1/Λ, Λ^{d+m−1}/c^{d+m}], Λ = (d + m)L²/c, with L the
    largest ‖y‖/‖s‖ in memory (the proof uses only the stored pairs). Without the ratio the same run
    stores, at update 8, a pair with ⟨s,y⟩ = 0.040‖s‖² (after rejecting the negative-curvature pairs
    of updates 3–7), and that update's step takes the loss from 0.37 to 2.4·10⁷."""
    prob, x0 = _counterexample()
    c, m, d = 0.1, 10, 4
    for ratio, flat_pair_seen in ((c, False), (None, True)):
        opt = refopt.lbfgs(lr=0.75, min_curvature_ratio=ratio)
        x, state, seen, checked = x0, opt.init(x0), False, 0
        for _ in range(60):
            with np.errstate(over="ignore", invalid="ignore"):   # the run without the ratio overflows
                x, state = opt.update(prob.grad(x), state, x)
            stored = [(_flat(s), _flat(y)) for s, y, rho in zip(state.s, state.y, state.rho) if rho != 0.0]
            if not stored or not np.all(np.isfinite(_flat(x))):
                continue
            curv = [float(s @ y) / float(s @ s) for s, y in stored]
            seen |= min(curv) < c
            if ratio is None:
                continue
            assert min(curv) >= c
            L = max(float(np.linalg.norm(y) / np.linalg.norm(s)) for s, y in stored)
            lam = (d + m) * L ** 2 / c
            H = _inverse_hessian(state, d)
            assert np.allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
            eig = np.linalg.eigvalsh((H + H.T) / 2)
            # the proof's trace bound with the j pairs actually stored: λ_max(H⁻¹) ≤ (d + j)L²/c
            assert eig.min() >= c / ((d + len(stored)) * L ** 2) * (1 - 1e-9)
            assert eig.max() <= lam ** (d + m - 1) / c ** (d + m)   # finite; far from tight
            checked += 1
        assert seen == flat_pair_seen
        assert ratio is None or checked >= 50
    with np.errstate(over="ignore", invalid="ignore"):
        losses = [float(prob.value(x)) for x in _run(refopt.lbfgs(lr=0.75), prob, x0, 8)]
    assert 0.37 < losses[6] < 0.38 and losses[7] > 1e7


def test_cautious_test_rejects_a_flat_pair_before_any_state_changes():
    """A pair with ⟨s,y⟩ = 0.0625‖s‖² > 10⁻¹⁰ passes torch's test and fails c = 0.1: the memory is
    left as it was (a pair with ρ = 0 changes nothing), while c = 0.01 and no ratio store it. The
    ratio is validated like the other options."""
    from refopt.optim.lbfgs import remember
    opt = refopt.lbfgs(lr=1.0)
    state = opt.init(np.zeros(2))._replace(prev_grad=np.array([1.0, 0.0]), prev_step=np.array([1.0, 1.0]))
    g = np.array([1.125, 0.0])                        # y = (0.125, 0), ⟨s,y⟩ = 0.125 = 0.0625‖s‖²
    assert remember(state, g, 1e-10, True, 0.1) is state
    for ratio in (0.01, None):
        pushed = remember(state, g, 1e-10, True, ratio)
        assert pushed.rho[-1] == 8.0 and np.array_equal(pushed.s[-1], state.prev_step)
    with pytest.raises(ValueError, match=r"min_curvature_ratio must be in \[0.0, inf\]"):
        refopt.lbfgs(min_curvature_ratio=-0.1)
    with pytest.raises(TypeError, match="min_curvature_ratio must be a real number"):
        refopt.lbfgs(min_curvature_ratio="cautious")
