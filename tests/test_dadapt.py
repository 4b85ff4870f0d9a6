"""Prodigy's distance estimate on a convex problem (proofs/rules/prodigy.md)."""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt.problems import Quadratic


@pytest.mark.parametrize("d0", [1e-6, 1e-3])
def test_prodigy_d_never_exceeds_the_initial_distance(d0):
    """For convex ℓ (without safeguard_warmup or decay) d_t ≤ max(d₀, c·‖θ₀ − θ*‖_∞); d grows."""
    prob = Quadratic([0.5, 1.0, 2.0, 4.0], seed=1)
    x = np.array([3.0, -1.0, 2.0, 0.5])
    bound = max(d0, np.max(np.abs(x - prob.minimiser)))
    opt = refopt.prodigy(lr=1.0, d0=d0)
    s = opt.init(x)
    for _ in range(300):
        x, s = opt.update(prob.grad(x), s, x)
        assert s.d <= bound * (1 + 1e-12)        # the ratio of two sums: rounding only
    assert s.d > 0.1 * bound                     # and it got close to it
    assert prob.value(x) - prob.min_value < 1e-3 * (prob.value(np.array([3.0, -1.0, 2.0, 0.5]))
                                                    - prob.min_value)
