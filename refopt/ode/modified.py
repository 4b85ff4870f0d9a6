r"""Backward error analysis of gradient descent, and the ODE limits of momentum methods.

**Implicit gradient regularisation** (Barrett & Dherin, ICLR 2021): one GD step of size h
follows the flow of the *modified* loss

.. math:: \tilde\ell(\theta) = \ell(\theta) + \frac{h}{4}\,\|\nabla\ell(\theta)\|^2

to O(h³), but the flow of ℓ only to O(h²); ∇ℓ̃ = ∇ℓ + (h/2) H∇ℓ.

**Heavy ball** with η = h², β = 1 − a h is a consistent discretisation of
θ'' + a θ' + ∇ℓ(θ) = 0 (step h in time, velocity (θ_k − θ_{k−1})/h). **Nesterov** with
momentum (k−1)/(k+2) and η = s has, as s → 0 with t = k√s, the limit
X'' + (3/t) X' + ∇ℓ(X) = 0 (Su, Boyd, Candès, JMLR 2016).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def modified_loss(loss: Callable[[Any], Any], grad: Callable[[Any], Any], h: float
                  ) -> Callable[[Any], Any]:
    """θ ↦ ℓ(θ) + (h/4)‖∇ℓ(θ)‖² for one-dimensional arrays θ."""
    def value(theta):
        g = grad(theta)
        return loss(theta) + 0.25 * h * float(np.sum(np.asarray(g) ** 2))
    return value


def modified_gradient(grad: Callable[[Any], Any], hvp: Callable[[Any, Any], Any], h: float
                      ) -> Callable[[Any], Any]:
    """θ ↦ ∇ℓ(θ) + (h/2) H(θ)∇ℓ(θ), the gradient of :func:`modified_loss`."""
    def g_mod(theta):
        g = grad(theta)
        return g + 0.5 * h * hvp(theta, g)
    return g_mod


def quadratic_gd_errors(lam: float, theta0: float, h: float) -> tuple[float, float]:
    r"""On ℓ = λθ²/2 (so θ' = −λθ): \|GD step − flow of ℓ at time h\| and \|GD step − flow of ℓ̃\|.

    ℓ̃ = ℓ + (h/4)λ²θ² = (λ/2)(1 + hλ/2)θ², so its flow is θ0·exp(−λ(1 + hλ/2)h).
    (The specification's reference example ℓ = θ² is λ = 2, :ref:`spec-numerical`.)
    """
    gd = theta0 * (1 - h * lam)
    flow = theta0 * np.exp(-lam * h)
    flow_mod = theta0 * np.exp(-lam * (1 + 0.5 * h * lam) * h)
    return abs(gd - flow), abs(gd - flow_mod)


def heavy_ball_ode(a: float, grad: Callable[[Any], Any]) -> Callable[[float, Any], Any]:
    """Right-hand side of θ'' + aθ' + ∇ℓ(θ) = 0 as a first-order system in (θ, θ')."""
    def rhs(t, state):
        theta, vel = state
        return vel, -a * vel - grad(theta)
    return rhs


def nesterov_ode(grad: Callable[[Any], Any]) -> Callable[[float, Any], Any]:
    """Right-hand side of X'' + (3/t)X' + ∇ℓ(X) = 0 (t > 0) as a first-order system."""
    def rhs(t, state):
        x, vel = state
        return vel, -(3.0 / t) * vel - grad(x)
    return rhs


def heavy_ball_with_ode_scaling(grad: Callable[[Any], Any], theta0: Any, a: float, h: float,
                                steps: int) -> Any:
    """Run heavy ball θ_{k+1} = θ_k + β(θ_k − θ_{k−1}) − η∇ℓ(θ_k) with η = h², β = 1 − ah,
    starting at rest (θ_{−1} = θ_0); returns θ_steps ≈ θ(steps·h) of the damped ODE."""
    beta, eta = 1.0 - a * h, h * h
    prev, cur = theta0, theta0
    for _ in range(steps):
        prev, cur = cur, cur + beta * (cur - prev) - eta * grad(cur)
    return cur
