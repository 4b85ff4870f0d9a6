"""L-BFGS against torch.optim.LBFGS and optax.lbfgs: 60 float64 iterations on a Rosenbrock
function and an L2-regularised logistic regression, each side taking exact gradients at its own
iterate.

Tolerance: rtol = atol = 1e-12 on the logistic regression, as for every oracle (the two-loop
recursion sums inner products in another order than the frameworks: a few ulps per step). On
Rosenbrock's curved valley a fixed-step L-BFGS amplifies rounding: refopt against *itself*
started one ulp away drifts to ~1e-10 in 60 steps. There the first 20 steps must agree at
1e-12 and the whole run within 100 × that measured self-sensitivity (never below 1e-12), which
a wrong convention (off by O(step)) misses by orders of magnitude.
"""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt.problems.classic import Rosenbrock
from refopt.problems.classification import LogisticRegression

pytestmark = pytest.mark.oracle
STEPS = 60
TOL = {"rtol": 1e-12, "atol": 1e-12}


def rosenbrock():
    prob = Rosenbrock()
    return prob.value, prob.grad, np.array([-1.2, 1.0])


def logistic():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    y = (X @ rng.standard_normal(5) + 0.5 * rng.standard_normal(40) > 0).astype(float)
    prob = LogisticRegression(X, y, l2=0.01)
    return prob.value, prob.grad, rng.standard_normal(5)


PROBLEMS = {"rosenbrock": rosenbrock, "logistic": logistic}


def run_refopt(opt, value, grad, x0, steps=STEPS, **extra):
    p, s, out = x0.copy(), opt.init(x0), []
    for _ in range(steps):
        p, s = opt.update(grad(p), s, p, **extra)
        out.append(p)
    return np.array(out)


def assert_matches(ours, theirs, problem, make_opt, value, grad, x0, run=None):
    if problem == "logistic":
        np.testing.assert_allclose(ours, theirs, **TOL)
        return
    np.testing.assert_allclose(ours[:20], theirs[:20], **TOL)
    run = run or (lambda start: run_refopt(make_opt(), value, grad, start))
    shifted = run(np.nextafter(x0, np.inf))
    sensitivity = np.max(np.abs(shifted - ours))
    assert sensitivity < 1e-8, sensitivity   # the bound below stays meaningful
    assert np.max(np.abs(ours - theirs)) <= max(1e-12, 100 * sensitivity)


def run_torch(value, grad, x0, steps=STEPS, **kwargs):
    torch = pytest.importorskip("torch")
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([x], max_iter=1, **kwargs)

    def closure():
        opt.zero_grad()
        point = x.detach().numpy()
        x.grad = torch.tensor(grad(point), dtype=torch.float64)
        return torch.tensor(value(point), dtype=torch.float64)

    out = []
    for _ in range(steps):
        opt.step(closure)
        out.append(x.detach().numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("problem,lr,m", [("rosenbrock", 0.5, 5), ("logistic", 1.0, 3)])
def test_lbfgs_fixed_step_matches_torch(problem, lr, m):
    value, grad, x0 = PROBLEMS[problem]()

    def make():
        return refopt.lbfgs(lr=lr, history_size=m)

    ours = run_refopt(make(), value, grad, x0)
    theirs = run_torch(value, grad, x0, lr=lr, history_size=m)
    assert_matches(ours, theirs, problem, make, value, grad, x0)
    assert np.linalg.norm(grad(ours[-1])) < 0.1 * np.linalg.norm(grad(x0))   # it made progress


@pytest.mark.parametrize("problem,lr,m", [("rosenbrock", 0.2, 5), ("logistic", 1.0, 3)])
def test_lbfgs_fixed_step_matches_optax(problem, lr, m):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    value, grad, x0 = PROBLEMS[problem]()

    def make():
        return refopt.lbfgs(lr=lr, history_size=m, first_step_norm="l2", min_curvature=None,
                            tolerance_grad=0.0, tolerance_change=0.0)

    ours = run_refopt(make(), value, grad, x0)
    tx = optax.lbfgs(lr, memory_size=m, linesearch=None)
    step = jax.jit(tx.update)      # compiled once: the two-loop scan is slow to trace per call
    params = jnp.asarray(x0)
    state, theirs = tx.init(params), []
    for _ in range(STEPS):
        updates, state = step(jnp.asarray(grad(np.asarray(params))), state, params)
        params = optax.apply_updates(params, updates)
        theirs.append(np.asarray(params))
    assert_matches(ours, np.array(theirs), problem, make, value, grad, x0)
    # no curvature test and no first-step cap in ‖·‖₁: without them this run differs from torch's
    torch_style = run_refopt(refopt.lbfgs(lr=lr, history_size=m), value, grad, x0)
    assert np.max(np.abs(torch_style - ours)) > 1e-6


class _Objective:
    def __init__(self, value, grad):
        self.value, self.grad = value, grad

    def value_and_grad(self, x):
        return self.value(x), self.grad(x)


@pytest.mark.parametrize("problem,m", [("rosenbrock", 5), ("logistic", 3)])
def test_lbfgs_strong_wolfe_matches_torch(problem, m):
    """torch.optim.LBFGS(line_search_fn="strong_wolfe", max_iter=1, max_eval=26): one L-BFGS
    iteration and at most 25 line-search evaluations per step, as refopt's max_ls=25."""
    value, grad, x0 = PROBLEMS[problem]()
    objective = _Objective(value, grad)

    def run(start):
        opt = refopt.lbfgs_wolfe(lr=1.0, history_size=m)
        p, s, out = start.copy(), opt.init(start), []
        for _ in range(STEPS):
            p, s = opt.update(None, s, p, objective=objective)
            out.append(p)
        return np.array(out)

    ours = run(x0)
    theirs = run_torch(value, grad, x0, lr=1.0, history_size=m, max_eval=26,
                       line_search_fn="strong_wolfe")
    assert_matches(ours, theirs, problem, None, value, grad, x0, run=run)
    assert np.linalg.norm(grad(ours[-1])) < 1e-5 * np.linalg.norm(grad(x0))   # converged
