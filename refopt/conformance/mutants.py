"""Deliberately wrong Adams in plain NumPy, for showing and testing the conformance kit.

Each is a :class:`~refopt.conformance.Candidate` that differs from ``refopt.adam`` in one
classic way (all three occur in real code):

* :func:`adam_bias_t_plus_1` — bias corrections 1 − β^(t+1): the step counter is incremented
  before use *and* counted from 1;
* :func:`adam_eps_inside` — ε inside the root, √(v̂ + ε): this one *is* a refopt configuration
  (``eps=0, eps_root=ε``), so :func:`~refopt.conformance.diagnose` names it;
* :func:`adam_m_starts_at_g1` — the first-moment buffer starts at g₁ instead of 0 while the bias
  correction still assumes 0, so m̂₁ = g₁/(1 − β1);
* :func:`adam_lazy` — skips the moment update and the step of a coordinate whose gradient is
  exactly 0 (SparseAdam's lazy update): visible only on the ``sparse`` probe.

>>> import numpy as np
>>> c = adam_eps_inside(lr=0.1)
>>> p = {"w": np.array([1.0])}
>>> print(c.update({"w": np.array([2.0])}, c.init(p), p)[0]["w"])
[0.9]
"""

from __future__ import annotations

import numpy as np

from refopt.conformance.adapters import Candidate


def _adam(name: str, lr: float, beta1: float, beta2: float, eps: float, *, shift: int = 0,
          eps_inside: bool = False, m_from_g1: bool = False, lazy: bool = False) -> Candidate:
    def init(params):
        return {"t": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
                "v": {k: np.zeros_like(v) for k, v in params.items()}}

    def update(grads, state, params):
        t = state["t"] + 1
        out, m_new, v_new = {}, {}, {}
        for k, g in grads.items():
            m, v = state["m"][k], state["v"][k]
            m1 = g if (m_from_g1 and t == 1) else beta1 * m + (1 - beta1) * g
            v1 = beta2 * v + (1 - beta2) * g * g
            if lazy:
                m1, v1 = np.where(g == 0, m, m1), np.where(g == 0, v, v1)
            m_hat = m1 / (1 - beta1 ** (t + shift))
            v_hat = v1 / (1 - beta2 ** (t + shift))
            den = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
            step = lr * m_hat / den
            out[k] = params[k] - (np.where(g == 0, 0.0, step) if lazy else step)
            m_new[k], v_new[k] = m1, v1
        return out, {"t": t, "m": m_new, "v": v_new}

    return Candidate(name, init, update)


def adam_bias_t_plus_1(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                       eps: float = 1e-8) -> Candidate:
    """Adam whose bias corrections use t + 1."""
    return _adam("Adam, bias correction at t+1", lr, beta1, beta2, eps, shift=1)


def adam_eps_inside(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                    eps: float = 1e-8) -> Candidate:
    """Adam with ε inside the square root."""
    return _adam("Adam, eps inside the root", lr, beta1, beta2, eps, eps_inside=True)


def adam_m_starts_at_g1(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                        eps: float = 1e-8) -> Candidate:
    """Adam whose first-moment buffer is initialised to g₁."""
    return _adam("Adam, m starts at g1", lr, beta1, beta2, eps, m_from_g1=True)


def adam_lazy(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8) -> Candidate:
    """Adam that leaves coordinates with an exactly-zero gradient untouched (lazy update)."""
    return _adam("Adam, lazy on zero gradients", lr, beta1, beta2, eps, lazy=True)
