r"""Explicit linear multistep methods from their coefficients, with their analysis.

The method advances θ' = F(θ) by

.. math:: \theta_{k+1} = \sum_{j=0}^{s-1} a_j\,\theta_{k-j} + h \sum_{j=0}^{s-1} b_j\,F(\theta_{k-j}),

i.e. characteristic polynomials ρ(ζ) = ζ^s − Σ_j a_j ζ^{s−1−j} and σ(ζ) = Σ_j b_j ζ^{s−1−j}.
Consistency is ρ(1) = 0 and ρ'(1) = σ(1); the order is the largest p with C_0 = … = C_p = 0,
where C_q = Σ_i (α_i i^q/q! − β_i i^{q−1}/(q−1)!) over the standard coefficients
α_i, β_i of θ_{k+1−s+i} (Hairer–Nørsett–Wanner I, §III.2); the error constant is C_{p+1}/σ(1).
Zero-stability is the root condition on ρ (roots in the closed unit disc, those on the circle
simple); the *strong* root condition also requires ζ = 1 to be the only root on the circle.
"""

from __future__ import annotations

from fractions import Fraction as Fr
from math import factorial
from typing import NamedTuple

import numpy as np


class Multistep(NamedTuple):
    name: str
    a: tuple[Fr, ...]  # a_0 … a_{s−1}: weights of θ_k, θ_{k−1}, …
    b: tuple[Fr, ...]  # b_0 … b_{s−1}: weights of F(θ_k), F(θ_{k−1}), …

    @property
    def steps(self) -> int:
        return len(self.a)


def multistep(name: str, a, b) -> Multistep:
    a, b = tuple(Fr(x) for x in a), tuple(Fr(x) for x in b)
    if len(a) != len(b) or not a:
        raise ValueError(f"multistep {name!r}: a and b must have the same length ≥ 1")
    return Multistep(name, a, b)


AB2 = multistep("ab2", [1, 0], ["3/2", "-1/2"])
# seed 001's one-step-ahead 4-instant formula θ'(τ_k) ≈ (2θ_{k+1} − 3θ_k + 2θ_{k−1} − θ_{k−2})/(2h)
FOUR_INSTANT = multistep("four_instant", ["3/2", -1, "1/2"], [1, 0, 0])
LEAPFROG = multistep("leapfrog", [0, 1], [2, 0])
METHODS = {m.name: m for m in (AB2, FOUR_INSTANT, LEAPFROG)}


def heavy_ball(beta) -> Multistep:
    """Polyak's heavy ball θ_{k+1} = θ_k + β(θ_k − θ_{k−1}) + hF(θ_k) as a two-step method."""
    beta = Fr(beta)
    return multistep(f"heavy_ball({beta})", [1 + beta, -beta], [1, 0])


def instability(m: Multistep) -> str:
    """Why ``m`` should not be run on a gradient flow ('' when it is fine), with the analysis.

    Refused: no coefficients; not consistent (ρ(1) ≠ 0 or ρ'(1) ≠ σ(1)); not zero-stable (root
    condition); or only weakly zero-stable — a root of ρ other than 1 on the unit circle, whose
    parasitic mode grows for every h > 0 on θ' = −λθ (leapfrog).
    """
    if not m.a or len(m.a) != len(m.b):
        return f"has {len(m.a)} a and {len(m.b)} b coefficients (need the same number ≥ 1)"
    roots = ", ".join(f"{complex(z):.4g}" for z in np.roots([float(x) for x in rho(m)]))
    if not is_consistent(m):
        r = rho(m)
        deg = len(r) - 1
        return (f"is not consistent: ρ(1) = {sum(r)}, ρ'(1) = "
                f"{sum(c * (deg - i) for i, c in enumerate(r))}, σ(1) = {sum(sigma(m))} "
                "(need ρ(1) = 0 and ρ'(1) = σ(1))")
    if not root_condition(m):
        return f"is not zero-stable: the roots of ρ are {roots} (root condition violated)"
    if not root_condition(m, strong=True):
        return (f"is only weakly zero-stable: the roots of ρ are {roots}; a root ≠ 1 on the "
                "unit circle makes its parasitic mode grow for every h > 0 on a gradient flow")
    return ""


def standard_coefficients(m: Multistep) -> tuple[list[Fr], list[Fr]]:
    """α_0..α_s, β_0..β_s with Σ α_i θ_{k+1−s+i} = h Σ β_i F_{k+1−s+i} (α_s = 1, β_s = 0)."""
    s = m.steps
    alpha = [-m.a[s - 1 - i] for i in range(s)] + [Fr(1)]
    beta = [m.b[s - 1 - i] for i in range(s)] + [Fr(0)]
    return alpha, beta


def error_coefficients(m: Multistep, q_max: int = 6) -> list[Fr]:
    alpha, beta = standard_coefficients(m)
    out = []
    for q in range(q_max + 1):
        c = sum(al * Fr(i) ** q for i, al in enumerate(alpha)) / factorial(q)
        if q >= 1:
            c -= sum(be * Fr(i) ** (q - 1) for i, be in enumerate(beta)) / factorial(q - 1)
        out.append(c)
    return out


def rho(m: Multistep) -> list[Fr]:
    """ρ's coefficients, highest power first."""
    return [Fr(1)] + [-x for x in m.a]


def sigma(m: Multistep) -> list[Fr]:
    return [Fr(0)] + list(m.b)


def is_consistent(m: Multistep) -> bool:
    r, s = rho(m), sigma(m)
    deg = len(r) - 1
    rho1 = sum(r)
    drho1 = sum(c * (deg - i) for i, c in enumerate(r))
    return rho1 == 0 and drho1 == sum(s)


def order(m: Multistep) -> int:
    c = error_coefficients(m)
    p = -1
    for q, cq in enumerate(c):
        if cq != 0:
            break
        p = q
    return p


def error_constant(m: Multistep) -> Fr:
    p = order(m)
    return error_coefficients(m)[p + 1] / sum(m.b)


def root_condition(m: Multistep, *, strong: bool = False, tol: float = 1e-9) -> bool:
    r"""Roots of ρ in \|ζ\| ≤ 1, those with \|ζ\| = 1 simple; strong: ζ = 1 the only one on the circle."""
    roots = np.roots([float(x) for x in rho(m)])
    for i, z in enumerate(roots):
        if abs(z) > 1 + tol:
            return False
        if abs(abs(z) - 1) <= tol:
            if any(abs(z - w) <= 1e-6 for j, w in enumerate(roots) if j != i):
                return False
            if strong and abs(z - 1) > 1e-6:
                return False
    return True


def spectral_radius(m: Multistep, x: float) -> float:
    """Largest root modulus of ρ(ζ) − z σ(ζ) at z = −x (gradient flow on ℓ = λθ²/2, x = hλ)."""
    poly = [float(r) + x * float(s) for r, s in zip(rho(m), sigma(m))]
    return float(max(abs(np.roots(poly))))


def real_stability_interval(m: Multistep, *, x_max: float = 10.0, grid: int = 20001) -> float:
    """sup{x > 0 : spectral radius < 1 on (0, x)}: iterates contract on ℓ = λθ²/2 iff hλ < x.

    A grid scan locates the first x where the radius reaches 1, then bisection refines it to
    ~1e−12. Returns 0.0 when no positive x contracts (e.g. leapfrog).
    """
    xs = np.linspace(0.0, x_max, grid)[1:]
    radii = [spectral_radius(m, x) for x in xs]
    bad = [i for i, r in enumerate(radii) if r >= 1.0 - 1e-13]
    if not bad:
        return float("inf")
    first = bad[0]
    if first == 0:
        lo = 0.0
        hi = xs[0]
        if spectral_radius(m, hi / 1e6) >= 1.0 - 1e-13:
            return 0.0
    else:
        lo, hi = xs[first - 1], xs[first]
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if spectral_radius(m, mid) < 1.0 - 1e-13:
            lo = mid
        else:
            hi = mid
    return float(lo)
