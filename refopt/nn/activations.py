"""Activations as pure forward/derivative pairs (:ref:`spec-networks`).

Each :class:`Activation` has ``forward(z) -> a`` and ``backward(z, a, da) -> dz`` (the
vector–Jacobian product; every activation is element-wise, so dz = σ'(z) ⊙ da). The smooth ones
are written with complex-analytic formulas (branches chosen on the real part only), so a
complex-step derivative check applies to them; ``smooth`` says which. Where σ' is a function of
a = σ(z) alone (relu: [a > 0]; tanh: 1 − a²; sigmoid: a(1 − a)), ``uses_z=False`` says so and
the MLP frees z right after the forward pass. Backward passes return a fresh array and never write
``z``, ``a`` or ``da``; they build dz in one array (the derivative times da, in place), in da's
dtype with Python-scalar constants only, so float32 stays float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import array_api_compat
import numpy as np

from refopt import _buffers


class Activation(NamedTuple):
    name: str
    forward: Callable[[Any], Any]
    backward: Callable[[Any, Any, Any], Any]
    smooth: bool  # analytic: valid under complex-step differentiation
    uses_z: bool = True  # backward reads z; False: it reads only a, da (z may be freed)


def _xp(z):
    return array_api_compat.array_namespace(z)


def real_part(z: Any) -> Any:
    """Re z for complex arrays; z itself for real ones (so branches work under complex step)."""
    xp = _xp(z)
    return xp.real(z) if xp.isdtype(z.dtype, "complex floating") else z


def _times_into(dz: Any, da: Any) -> Any:
    """dz ⊙ da, written into the fresh ``dz`` when the product keeps its dtype (else promoted)."""
    if dz.dtype == da.dtype:
        dz *= da
        return dz
    return dz * da


def _identity_fwd(z):
    return z


def _identity_bwd(z, a, da):
    return da


def _relu_fwd(z):
    xp = _xp(z)
    if xp.isdtype(z.dtype, "complex floating"):  # max is undefined on ℂ: branch on Re z
        return xp.where(xp.real(z) > 0, z, xp.zeros_like(z))
    # one pass and no zeros array (NumPy's where branches per element: ~10x slower on random
    # signs); equal to where(z > 0, z, 0) except that a NaN stays NaN, as in torch.relu
    out = _buffers.like(z)   # NumPy: into a pooled buffer, no fresh pages to fault each step
    return xp.maximum(z, 0.0) if out is None else np.maximum(z, 0.0, out=out)


def _relu_bwd(z, a, da):
    # dz = [z > 0] ⊙ da = [a > 0] ⊙ da (σ'(0) := 0, as torch): the indicator is cast into da's
    # dtype and multiplied by da in place, so dz is the only (N, d) array made (da·0 can be −0.0
    # where where(z > 0, da, 0) gave +0.0: equal values)
    xp = _xp(da)
    positive = real_part(a) > 0
    dz = _buffers.like(da)
    if dz is None:
        dz = xp.astype(positive, da.dtype)
    else:   # NumPy: the same 1.0 / 0.0 indicator, written into a pooled buffer
        np.copyto(dz, positive)
    dz *= da
    return dz


def leaky_relu(slope: float = 0.01) -> Activation:
    """max(z, slope·z) for 0 ≤ slope < 1; derivative 1 or slope (slope at z = 0)."""
    if not 0.0 <= slope < 1.0:
        raise ValueError(f"slope must be in [0, 1), got {slope!r}")

    def fwd(z):
        return _xp(z).where(real_part(z) > 0, z, slope * z)

    def bwd(z, a, da):
        return _xp(z).where(real_part(z) > 0, da, slope * da)

    return Activation(f"leaky_relu({slope:g})", fwd, bwd, smooth=False)


def _tanh_fwd(z):
    return _xp(z).tanh(z)


def _tanh_bwd(z, a, da):
    return _times_into(1.0 - a * a, da)  # reuses the forward output a = tanh z


def _sigmoid_fwd(z):
    r"""1/(1+e^{−z}) without overflow: e = exp(−\|Re z\|-side), one formula per half-plane."""
    xp = _xp(z)
    pos = real_part(z) >= 0
    e = xp.exp(xp.where(pos, -z, z))  # |e| ≤ 1 on both branches
    return xp.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_bwd(z, a, da):
    dz = 1.0 - a  # (1 − a)·a·da: the same products as a·(1 − a)·da, in one array
    dz *= a
    return _times_into(dz, da)


def _softplus_fwd(z):
    """log(1 + e^z) = z + log1p(e^{−z}) for Re z ≥ 0, log1p(e^z) otherwise (no overflow)."""
    xp = _xp(z)
    pos = real_part(z) >= 0
    e = xp.exp(xp.where(pos, -z, z))
    return xp.where(pos, z, xp.zeros_like(z)) + xp.log1p(e)


def _softplus_bwd(z, a, da):
    return _times_into(_sigmoid_fwd(z), da)


_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715


def _gelu_fwd(z):
    """GELU, tanh form: ½ z (1 + tanh(√(2/π)(z + 0.044715 z³))) (Hendrycks & Gimpel)."""
    t = _xp(z).tanh(_GELU_C * (z + _GELU_K * z * z * z))
    return 0.5 * z * (1.0 + t)


def _gelu_bwd(z, a, da):
    t = _xp(z).tanh(_GELU_C * (z + _GELU_K * z * z * z))
    dt = (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * z * z)
    return (0.5 * (1.0 + t) + 0.5 * z * dt) * da


#: z ↦ z
identity = Activation("identity", _identity_fwd, _identity_bwd, smooth=True, uses_z=False)
#: z ↦ max(z, 0), derivative [z > 0]
relu = Activation("relu", _relu_fwd, _relu_bwd, smooth=False, uses_z=False)
#: z ↦ tanh z, derivative 1 − a²
tanh = Activation("tanh", _tanh_fwd, _tanh_bwd, smooth=True, uses_z=False)
#: z ↦ 1/(1 + e^{−z}), derivative a(1 − a)
sigmoid = Activation("sigmoid", _sigmoid_fwd, _sigmoid_bwd, smooth=True, uses_z=False)
#: z ↦ log(1 + e^z), derivative sigmoid(z)
softplus = Activation("softplus", _softplus_fwd, _softplus_bwd, smooth=True)
#: GELU, tanh approximation
gelu = Activation("gelu", _gelu_fwd, _gelu_bwd, smooth=True)

# the activations by name; tests/test_interface.py checks ActivationName against ACTIVATIONS
ActivationName = Literal["identity", "relu", "tanh", "sigmoid", "softplus", "gelu", "leaky_relu"]
ACTIVATIONS = {a.name: a for a in (identity, relu, tanh, sigmoid, softplus, gelu)}
ACTIVATIONS["leaky_relu"] = leaky_relu()


def get(name_or_activation: ActivationName | Activation) -> Activation:
    """Look up an activation by name (``"relu"``, ``"tanh"``, ...) or pass one through."""
    if isinstance(name_or_activation, Activation):
        return name_or_activation
    if name_or_activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} or an Activation, "
                         f"got {name_or_activation!r}")
    return ACTIVATIONS[name_or_activation]
