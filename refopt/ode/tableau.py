r"""Explicit Runge–Kutta methods as Butcher tableaux, with their analysis computed exactly.

A tableau (A, b, c) with A strictly lower triangular defines, for θ' = F(θ) and step h,

.. math::
    k_i = F\Big(\theta + h \sum_{j<i} a_{ij} k_j\Big),\qquad
    \theta_{+} = \theta + h \sum_i b_i k_i .

Everything here is computed from the coefficients in exact rational arithmetic: the order
conditions up to order 4 (the trees of order ≤ 4; Butcher 2016, §31), the stability polynomial
R(z) = 1 + z bᵀ(I − zA)⁻¹𝟙 on y' = λy, the error constant on that test equation, and the real
stability interval on ℓ = λθ²/2 (gradient flow θ' = −λθ: the step multiplies θ by R(−hλ)).
"""

from __future__ import annotations

from fractions import Fraction as Fr
from math import factorial
from typing import NamedTuple

import numpy as np


class ButcherTableau(NamedTuple):
    name: str
    A: tuple[tuple[Fr, ...], ...]  # s × s, strictly lower triangular (explicit)
    b: tuple[Fr, ...]
    c: tuple[Fr, ...]

    @property
    def stages(self) -> int:
        return len(self.b)


def tableau(name: str, A, b, c) -> ButcherTableau:
    """Build and validate a tableau from numbers or strings such as ``"1/6"``."""
    A = tuple(tuple(Fr(x) for x in row) for row in A)
    b, c = tuple(Fr(x) for x in b), tuple(Fr(x) for x in c)
    s = len(b)
    if len(A) != s or any(len(row) != s for row in A) or len(c) != s:
        raise ValueError(f"tableau {name!r}: A must be {s}×{s} and c of length {s}")
    if any(c[i] != sum(A[i]) for i in range(s)):
        raise ValueError(f"tableau {name!r}: c_i must equal Σ_j a_ij (row-sum condition)")
    return check_explicit(ButcherTableau(name, A, b, c))


def check_explicit(tab: ButcherTableau) -> ButcherTableau:
    """Refuse a tableau that is mis-shaped or implicit (refopt runs explicit methods only)."""
    s = len(tab.b)
    if s < 1 or len(tab.A) != s or any(len(row) != s for row in tab.A) or len(tab.c) != s:
        raise ValueError(f"tableau {tab.name!r}: A must be {s}×{s} and c of length {s}, s ≥ 1")
    upper = [(i, j) for i in range(s) for j in range(i, s) if tab.A[i][j] != 0]
    if upper:
        raise ValueError(f"tableau {tab.name!r}: A must be strictly lower triangular (explicit); "
                         f"a_ij ≠ 0 at (i, j) = {upper} — implicit methods are not supported")
    return tab


EULER = tableau("euler", [[0]], [1], [0])
HEUN = tableau("heun", [[0, 0], [1, 0]], ["1/2", "1/2"], [0, 1])            # explicit trapezoid
MIDPOINT = tableau("midpoint", [[0, 0], ["1/2", 0]], [0, 1], [0, "1/2"])
RALSTON = tableau("ralston", [[0, 0], ["2/3", 0]], ["1/4", "3/4"], [0, "2/3"])
RK4 = tableau("rk4", [[0, 0, 0, 0], ["1/2", 0, 0, 0], [0, "1/2", 0, 0], [0, 0, 1, 0]],
              ["1/6", "1/3", "1/3", "1/6"], [0, "1/2", "1/2", 1])
TABLEAUX = {t.name: t for t in (EULER, HEUN, MIDPOINT, RALSTON, RK4)}


def _mat_vec(A, v):
    return tuple(sum(a * x for a, x in zip(row, v)) for row in A)


def _dot(u, v):
    return sum(a * x for a, x in zip(u, v))


def order_conditions(tab: ButcherTableau) -> dict[str, Fr]:
    """Residuals (lhs − rhs) of the order conditions for trees of order 1–4."""
    A, b, c = tab.A, tab.b, tab.c
    c2 = tuple(x * x for x in c)
    Ac = _mat_vec(A, c)
    return {
        "1: Σb = 1": sum(b) - 1,
        "2: Σbc = 1/2": _dot(b, c) - Fr(1, 2),
        "3: Σbc² = 1/3": _dot(b, c2) - Fr(1, 3),
        "3: ΣbAc = 1/6": _dot(b, Ac) - Fr(1, 6),
        "4: Σbc³ = 1/4": _dot(b, tuple(x ** 3 for x in c)) - Fr(1, 4),
        "4: Σb·c·Ac = 1/8": _dot(b, tuple(x * y for x, y in zip(c, Ac))) - Fr(1, 8),
        "4: ΣbAc² = 1/12": _dot(b, _mat_vec(A, c2)) - Fr(1, 12),
        "4: ΣbAAc = 1/24": _dot(b, _mat_vec(A, Ac)) - Fr(1, 24),
    }


def order(tab: ButcherTableau) -> int:
    """The largest p ≤ 4 such that every condition of order ≤ p holds exactly.

    (Methods of order ≥ 5 report 4: conditions beyond order 4 are not implemented.)
    """
    residuals = order_conditions(tab)
    p = 0
    for q in range(1, 5):
        if all(r == 0 for k, r in residuals.items() if k.startswith(f"{q}:")):
            p = q
        else:
            break
    return p


def stability_polynomial(tab: ButcherTableau) -> tuple[Fr, ...]:
    """Coefficients r_0, r_1, … of R(z) = Σ r_k z^k = 1 + z bᵀ(I − zA)⁻¹𝟙 = 1 + Σ_k bᵀA^{k−1}𝟙 z^k."""
    coeffs = [Fr(1)]
    v = tuple(Fr(1) for _ in tab.b)          # A^{k−1} 𝟙
    for _ in range(tab.stages):
        coeffs.append(_dot(tab.b, v))
        v = _mat_vec(tab.A, v)
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    return tuple(coeffs)


def error_constant(tab: ButcherTableau) -> Fr:
    """C with e^z − R(z) = C z^{p+1} + O(z^{p+2}): the local error constant on y' = λy."""
    p = order(tab)
    R = stability_polynomial(tab)
    r_next = R[p + 1] if p + 1 < len(R) else Fr(0)
    return Fr(1, factorial(p + 1)) - r_next


def real_stability_interval(tab: ButcherTableau) -> float:
    r"""sup{x > 0 : \|R(−y)\| < 1 for all 0 < y < x}, i.e. GD-like contraction on ℓ = λθ²/2 iff hλ < x.

    Found from the polynomial roots of R(−x) = ±1 (exact coefficients, numeric roots).
    """
    R = [float(r) for r in stability_polynomial(tab)]
    poly_neg = [r * (-1) ** k for k, r in enumerate(R)]  # R(−x) as a polynomial in x
    candidates = []
    for target in (1.0, -1.0):
        shifted = list(poly_neg)
        shifted[0] -= target
        roots = np.roots(shifted[::-1]) if len(shifted) > 1 else []
        candidates += [r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 1e-12]
    return float(min(candidates)) if candidates else float("inf")
