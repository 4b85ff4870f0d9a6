"""Seeded initialisers (Glorot & Bengio 2010; He et al. 2015)."""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np

Scheme = Literal["glorot_uniform", "glorot_normal", "he_uniform", "he_normal"]
SCHEMES: tuple[str, ...] = get_args(Scheme)


def init_weight(scheme: Scheme, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """A (fan_in, fan_out) float64 matrix.

    glorot: Var = 2/(fan_in + fan_out); he: Var = 2/fan_in. Uniform draws use U(−a, a) with
    a = √(3 Var); normal draws use N(0, Var) (not truncated).
    """
    if scheme not in SCHEMES:
        raise ValueError(f"init must be one of {list(SCHEMES)}, got {scheme!r}")
    var = 2.0 / (fan_in + fan_out) if scheme.startswith("glorot") else 2.0 / fan_in
    if scheme.endswith("uniform"):
        a = math.sqrt(3.0 * var)
        return rng.uniform(-a, a, (fan_in, fan_out))
    return rng.normal(0.0, math.sqrt(var), (fan_in, fan_out))
