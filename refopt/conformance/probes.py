"""The probe battery: deterministic gradient streams, each there to separate some conventions.

A :class:`Probe` gives initial parameters (a dict of NumPy arrays) and the gradient at step
``t = 1, 2, ...`` for the current parameters. Closed-loop probes (the quadratics) compute the
gradient from the caller's own iterate, so a difference in the rule propagates; open-loop probes
replay a fixed stream, so a difference shows at the step that causes it. Everything is seeded by
the probe's name: two runs see bit-identical gradients.

Options that are configuration rather than data — a learning-rate schedule, weight decay,
``maximize`` — are separated only when both sides are built with them; the ``weight_decay`` and
``concave`` probes make such differences large when they are.

A rule that declares ``"value"`` in its ``extra_args`` (Polyak's step size) also gets the loss
``value(params, t)`` whose gradient the probe streams: the quadratic itself for a closed-loop
probe, the linear loss ⟨g_t, θ⟩ for an open-loop one.

>>> from refopt.conformance.probes import PROBES
>>> [p.name for p in PROBES][:3]
['quadratic', 'ill_conditioned', 'sparse']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Tree = dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)   # compared and hashed by identity
class Probe:
    """A named gradient stream: ``init(dtype) -> params``, ``grad(params, t) -> grads``."""

    name: str
    separates: str                      # which conventions this probe tells apart
    shapes: dict[str, tuple[int, ...]]
    x0: Callable[[np.random.Generator, int], np.ndarray]
    grad_fn: Callable[[np.ndarray, int], np.ndarray]   # flat params, t -> flat gradient

    def init(self, dtype: str = "float64") -> Tree:
        n = sum(int(np.prod(s)) for s in self.shapes.values())
        return split(self.x0(_rng(self.name), n).astype(dtype), self.shapes)

    def grad(self, params: Tree, t: int) -> Tree:
        x = join(params, self.shapes)
        return split(self.grad_fn(x.astype(np.float64), t).astype(x.dtype), self.shapes)

    def value(self, params: Tree, t: int) -> float:
        """The loss at step t whose gradient is :meth:`grad` (``grad_fn.value``)."""
        return float(self.grad_fn.value(join(params, self.shapes).astype(np.float64), t))

    def extra(self, extra_args, params: Tree, t: int) -> dict:
        """The extra update arguments a rule declares that a probe can supply (``value``)."""
        return {"value": self.value(params, t)} if "value" in extra_args else {}


def split(x: np.ndarray, shapes: dict) -> Tree:
    out, i = {}, 0
    for k, s in shapes.items():
        n = int(np.prod(s))
        out[k] = x[i:i + n].reshape(s).copy()
        i += n
    return out


def join(tree: Tree, shapes: dict) -> np.ndarray:
    return np.concatenate([np.asarray(tree[k]).reshape(-1) for k in shapes])


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng([sum(ord(c) * 31 ** i for i, c in enumerate(str(k))) % 2**32
                                  for k in key])


def _quadratic(name: str, eigs: Callable[[int], np.ndarray], sign: float = 1.0, noise=0.1,
               shift: float = 0.0):
    @functools.lru_cache(maxsize=4)
    def system(n: int) -> tuple[np.ndarray, np.ndarray]:
        r = _rng(name, "A")
        q, _ = np.linalg.qr(r.standard_normal((n, n)))
        return q @ np.diag(eigs(n)) @ q.T, r.uniform(-1, 1, n) + shift

    def grad(x, t):
        a, b = system(x.size)
        return sign * (a @ x - b) + noise * _rng(name, t).standard_normal(x.size)

    def value(x, t):
        a, b = system(x.size)
        return sign * (0.5 * x @ a @ x - b @ x) + noise * _rng(name, t).standard_normal(x.size) @ x
    grad.value = value
    return grad


def _stream(name: str, scale: Callable[[np.ndarray, int], np.ndarray]):
    """Open-loop: g_t = scale(z_t, t) for a seeded standard normal z_t (the gradient of the
    linear loss ⟨g_t, θ⟩)."""
    def grad(x, t):
        return scale(_rng(name, t).standard_normal(x.size), t)
    grad.value = lambda x, t: grad(x, t) @ x
    return grad


def _uniform_signs(r, n):
    return r.choice([-1.0, 1.0], n) * r.uniform(0.5, 1.5, n)


def _sparse(z, t):
    out = z.copy()
    out[:3] = 0.0 if t <= 8 else out[:3]        # three coordinates wake up at t = 9
    out[3] = 0.0                                # one never does: 0/0 must stay 0
    if 5 <= t <= 8:
        out[4] = 0.0                            # and one sleeps at t = 5..8 after moving
    return out


def _alternating(z, t):
    return (-1.0) ** t * (1.0 + 0.1 * z)


def _growing(z, t):
    return 2.0 ** min(t, 6) * (0.1 + 0.01 * z)


_S = {"w": (6,), "b": (2,)}
PROBES: tuple[Probe, ...] = (
    Probe("quadratic", "the rule as a whole: a random SPD quadratic, κ ≈ 4, noisy, closed loop",
          _S, _uniform_signs, _quadratic("quadratic", lambda n: np.linspace(0.5, 2.0, n))),
    Probe("ill_conditioned", "per-coordinate scaling: eigenvalues 1 … 1e4 (κ = 1e4)",
          _S, _uniform_signs, _quadratic("ill", lambda n: np.logspace(0, 4, n) / 1e2, noise=0.0)),
    Probe("sparse", "ε placement, 0/0, lazy updates: exact zeros (3 coordinates until t = 8, "
          "one always, one at t = 5..8)",
          _S, _uniform_signs, _stream("sparse", _sparse)),
    Probe("eps_sized", "ε inside/outside the root, eps_root, ε̂: |g| ≈ 1e-8",
          _S, _uniform_signs, _stream("eps", lambda z, t: 1e-8 * z)),
    Probe("large", "scale handling (g² near 1e8, clipping): |g| ≈ 1e4",
          _S, _uniform_signs, _stream("large", lambda z, t: 1e4 * z)),
    Probe("sign_alternating", "momentum buffer initialisation, dampening, Nesterov: g_t ≈ (−1)^t",
          _S, _uniform_signs, _stream("alt", _alternating)),
    Probe("growing", "the step index t (bias corrections, schedules off by one): g_t ∝ 2^t",
          _S, _uniform_signs, _stream("grow", _growing)),
    Probe("weight_decay", "L2 vs decoupled decay, decay scaled by lr or not: |θ| ≈ 10, small g",
          _S, lambda r, n: 10.0 * _uniform_signs(r, n),
          _quadratic("wd", lambda n: np.full(n, 0.01), noise=0.01, shift=5.0)),
    Probe("concave", "maximize: the gradient of a concave quadratic (ascent stays bounded)",
          _S, _uniform_signs, _quadratic("concave", lambda n: np.linspace(0.5, 2.0, n), sign=-1.0)),
    Probe("pytree", "per-leaf vs global reductions (norms, clipping): leaves of shapes (), (3,), (2, 3)",
          {"s": (), "v": (3,), "m": (2, 3)}, _uniform_signs,
          _quadratic("tree", lambda n: np.linspace(0.5, 2.0, n))),
)
BY_NAME = {p.name: p for p in PROBES}


def select(probes) -> tuple[Probe, ...]:
    """``None`` → all; otherwise names or :class:`Probe` objects."""
    if probes is None:
        return PROBES
    out = []
    for p in probes:
        if isinstance(p, Probe):
            out.append(p)
        elif p in BY_NAME:
            out.append(BY_NAME[p])
        else:
            raise ValueError(f"probes must be Probe objects or names in {sorted(BY_NAME)}, got {p!r}")
    return tuple(out)
