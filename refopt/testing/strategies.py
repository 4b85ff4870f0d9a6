"""Hypothesis strategies for property tests of optimizers — public, for your own suites too.

Every strategy builds its object from a few small integers and floats (dimension, condition
number, seed, ...), so hypothesis shrinks a failure to a short, readable instance such as
``Quadratic(dim=2, kappa=1.0, L=1.0, seed=0)``, and the instance can be rebuilt from the
printed values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from refopt.nn.mlp import MLP
from refopt.problems import (
    CosineMixture,
    IndefiniteQuadratic,
    LeastSquares,
    LogisticRegression,
    MatrixFactorisation,
    MLPObjective,
    Quadratic,
)


def arrays(max_dims: int = 2, max_side: int = 4, low: float = -2.0, high: float = 2.0):
    """Float64 NumPy arrays of small random shape (0-d allowed), seeded from a drawn integer."""
    return st.builds(
        lambda shape, seed: np.random.default_rng(seed).uniform(low, high, shape),
        st.lists(st.integers(1, max_side), max_size=max_dims).map(tuple), st.integers(0, 2**16))


@st.composite
def pytrees(draw, max_leaves: int = 4):
    """A dict, list, tuple or nesting of them, with 1..max_leaves float64 array leaves."""
    n = draw(st.integers(1, max_leaves))
    leaves = [draw(arrays()) for _ in range(n)]
    kind = draw(st.sampled_from(["array", "dict", "list", "tuple", "nested"]))
    if kind == "array" or n == 1:
        return leaves[0] if kind == "array" else {"w": leaves[0]}
    if kind == "dict":
        return {f"p{i}": leaf for i, leaf in enumerate(leaves)}
    if kind == "list":
        return list(leaves)
    if kind == "tuple":
        return tuple(leaves)
    return {"layers": [leaves[0], tuple(leaves[1:])]}


def eigenvalues(dim: int, kappa: float, L: float, seed: int) -> np.ndarray:
    """dim eigenvalues in [L/κ, L] including both ends (so L and μ are attained exactly)."""
    rng = np.random.default_rng(seed)
    if dim == 1:
        return np.array([L])
    inner = rng.uniform(L / kappa, L, dim - 2)
    return np.concatenate([[L / kappa, L], inner])


@st.composite
def quadratics(draw, min_dim: int = 1, max_dim: int = 6, kappa: tuple = (1.0, 100.0),
               L: tuple = (0.1, 10.0), singular: bool = False):
    """A :class:`~refopt.problems.Quadratic` with L = max λ and μ = min λ known exactly.

    ``singular=True`` makes the smallest eigenvalue 0 (convex, not strongly convex; μ = None).
    """
    dim = draw(st.integers(min_dim, max_dim))
    k = draw(st.floats(*kappa, allow_nan=False))
    big = draw(st.floats(*L, allow_nan=False))
    seed = draw(st.integers(0, 10_000))
    lam = eigenvalues(dim, k, big, seed)
    if singular and dim > 1:
        lam = lam.copy()
        lam[0] = 0.0
    return Quadratic(lam, seed=seed)


@st.composite
def least_squares(draw, max_n: int = 60, max_dim: int = 5, noise: tuple = (0.0, 1.0)):
    """Full-column-rank least squares (μ > 0) with Gaussian design and noisy targets."""
    d = draw(st.integers(1, max_dim))
    n = draw(st.integers(d + 2, max_n))
    seed = draw(st.integers(0, 10_000))
    sigma = draw(st.floats(*noise))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return LeastSquares(X, X @ rng.uniform(-1, 1, d) + sigma * rng.standard_normal(n))


@st.composite
def logistic_problems(draw, max_n: int = 60, max_dim: int = 4, l2: tuple = (0.01, 1.0)):
    """ℓ2-regularised logistic regression: L and μ = λ known, minimiser by Newton."""
    d = draw(st.integers(1, max_dim))
    n = draw(st.integers(4, max_n))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
    return LogisticRegression(X, y, l2=draw(st.floats(*l2)))


@st.composite
def nonconvex_problems(draw, max_dim: int = 4, max_terms: int = 4, c: tuple = (0.0, 0.5)):
    """A :class:`~refopt.problems.CosineMixture`: smooth, non-convex, L and ℓ_inf known.

    ``c=(0.0, 0.0)`` drops the quadratic term, so the gradient is bounded everywhere."""
    d = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_terms))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    return CosineMixture(rng.uniform(-1.5, 1.5, m), rng.uniform(-1.5, 1.5, (m, d)),
                         c=draw(st.floats(*c)))


@st.composite
def online_linear_losses(draw, max_dim: int = 4, min_T: int = 20, max_T: int = 200,
                         G: float = 1.0):
    """Online linear losses f_t(x) = ⟨g_t, x⟩ with ‖g_t‖_∞ ≤ G, as a (T, d) array of g_t.

    A drawn bias per coordinate makes some coordinates trend (so the best fixed point in hindsight
    is a vertex of the box) and others oscillate.
    """
    d = draw(st.integers(1, max_dim))
    T = draw(st.integers(min_T, max_T))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    bias = rng.uniform(-0.5, 0.5, d)
    g = np.clip(bias + rng.uniform(-1, 1, (T, d)), -1, 1) * G
    g[g == 0] = G / 2  # Adagrad's analysis needs non-zero first gradients
    return g


@st.composite
def saddle_quadratics(draw, min_dim: int = 2, max_dim: int = 5, L: tuple = (0.1, 10.0)):
    """An :class:`~refopt.problems.IndefiniteQuadratic` with eigenvalues of both signs in [−L, L].

    Non-convex (a strict saddle at ``saddle``); ``max |λ| = L`` is attained exactly.
    """
    dim = draw(st.integers(max(min_dim, 2), max_dim))
    big = draw(st.floats(*L, allow_nan=False))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    lam = rng.uniform(-big, big, dim)
    lam[0], lam[1] = -abs(lam[0]) or -big / 2, big   # at least one negative; L attained
    return IndefiniteQuadratic(lam, seed=seed)


@st.composite
def rank_deficient_least_squares(draw, max_n: int = 30, max_dim: int = 5):
    """Least squares with rank(X) = r < d: convex, not strongly convex, but PL with μ the
    smallest *non-zero* eigenvalue of XᵀX/N (Karimi, Nutini, Schmidt 2016, §2.2)."""
    d = draw(st.integers(2, max_dim))
    r = draw(st.integers(1, d - 1))
    n = draw(st.integers(d + 2, max_n))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, r)) @ rng.standard_normal((r, d))
    return LeastSquares(X, rng.standard_normal(n))


@st.composite
def matrix_factorisations(draw, max_side: int = 4, max_rank: int = 2):
    """ℓ(U, V) = ½‖UVᵀ − M‖² with rank-r M scaled to ‖M‖₂ = 1 (so step sizes mean the same on
    every instance): non-convex, every local minimum global (ℓ* = 0)."""
    m, n = draw(st.integers(2, max_side)), draw(st.integers(2, max_side))
    r = draw(st.integers(1, min(max_rank, m, n)))
    prob = MatrixFactorisation(m, n, r, seed=draw(st.integers(0, 10_000)))
    s = float(np.linalg.norm(prob.M, 2))
    prob.M = prob.M / s
    prob.minimiser = {k: v / np.sqrt(s) for k, v in prob.minimiser.items()}
    return prob


@st.composite
def teacher_student_mlps(draw, max_inputs: int = 3, max_hidden: int = 3, max_n: int = 24):
    """Realisable regression: a student d → h → 1 tanh MLP (mse) fits targets of a teacher with
    the same architecture, so ℓ* = 0 (attained at the teacher). Non-convex."""
    d, h = draw(st.integers(1, max_inputs)), draw(st.integers(1, max_hidden))
    n = draw(st.integers(4, max_n))
    return teacher_student_problem(d, h, n, draw(st.integers(0, 10_000)))


def teacher_parameters(d: int, h: int, seed: int) -> list:
    """The teacher of the instance with this ``seed``: the d → h → 1 network's ``init(seed=seed + 1)``."""
    return MLP([d, h, 1], activation="tanh", loss="mse").init(seed=seed + 1)


def teacher_student_problem(d: int, h: int, n: int, seed: int) -> MLPObjective:
    """The instance (d, h, N, seed) of :func:`teacher_student_mlps`: N standard-normal inputs
    (PCG64 seeded ``seed``) and the targets of :func:`teacher_parameters`."""
    net = MLP([d, h, 1], activation="tanh", loss="mse")
    X = np.random.default_rng(seed).standard_normal((n, d))
    return MLPObjective(net, X, net.forward(teacher_parameters(d, h, seed), X))


def step_fraction(low: float, high: float) -> Any:
    """A factor in [low, high] for step sizes that theorems allow as a fraction of 1/L."""
    return st.floats(low, high, allow_nan=False, exclude_min=False)
