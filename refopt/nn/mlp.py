"""A multilayer perceptron with hand-derived backward pass (:ref:`spec-networks`).

Parameters are a plain pytree — a list with one ``{"W": (d_in, d_out), "b": (d_out,)}`` dict
per layer — and :meth:`MLP.loss_and_grad` returns gradients of exactly that structure, so
``opt.update(grads, state, params)`` applies directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import array_api_compat
import numpy as np

from refopt import _buffers, _xp
from refopt.nn import activations as _act
from refopt.nn import batchnorm as _bn
from refopt.nn.activations import ActivationName
from refopt.nn.init import Scheme, init_weight
from refopt.nn.layers import affine, dense_param_grads, dense_per_example_sq_norms
from refopt.nn.losses import LOSSES, LossName, _check_finite


class MLP:
    r"""x → h_1 = σ(x W_1 + b_1) → … → out = σ_out(h_{L−1} W_L + b_L), with a loss on ``out``.

    Backward (chain rule, one layer at a time, z = h W + b, h' = σ(z)):

    .. math:: dz = σ'(z) ⊙ dh',\quad dW = h^T dz,\quad db = Σ_n dz_n,\quad dh = dz\, W^T

    Each product is one BLAS call on transposed *views* (hᵀ, Wᵀ: no copies); the bias is added
    into the fresh product in place; σ'(z) ⊙ dh' is formed in one array (tanh reuses a = tanh z:
    (1 − a²) ⊙ dh'); dh is not formed for the input x, which gets no gradient; each layer's
    arrays are released as soon as the backward pass has used them; validation runs once per
    call. Constants are Python scalars, so float32 networks compute in float32 throughout.

    Args:
      sizes: layer widths ``[d_in, h_1, ..., d_out]`` (at least two).
      activation: hidden activation name or :class:`~refopt.nn.activations.Activation`, or a
        list with one per hidden layer.
      output_activation: applied to the last layer (``"identity"`` for logits).
      loss: ``"softmax_cross_entropy"`` (default), ``"mse"`` or ``"binary_logistic"``.
      init: ``"glorot_uniform"`` (default), ``"glorot_normal"``, ``"he_uniform"``, ``"he_normal"``;
        biases start at 0.
      batch_norm: put batch normalization (:func:`~refopt.nn.batchnorm_forward`) between every
        hidden dense layer and its activation (parameters ``gamma`` = 1, ``beta`` = 0; train
        mode unless ``forward`` gets ``running`` statistics, see ``batch_statistics``).

    Example:

    >>> import numpy as np
    >>> from refopt.nn import MLP
    >>> net = MLP([2, 8, 3], activation="tanh")
    >>> params = net.init(seed=0)
    >>> x, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([0, 2])
    >>> loss, grads = net.loss_and_grad(params, x, y)
    >>> [sorted(layer) for layer in grads], grads[0]["W"].shape
    ([['W', 'b'], ['W', 'b']], (2, 8))
    """

    def __init__(self, sizes: Sequence[int],
                 activation: ActivationName | _act.Activation | Sequence[Any] = "tanh",
                 output_activation: ActivationName | _act.Activation = "identity",
                 loss: LossName = "softmax_cross_entropy",
                 init: Scheme = "glorot_uniform", batch_norm: bool = False):
        sizes = list(sizes)
        if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
                                      for s in sizes):
            raise ValueError(f"sizes must be a list of at least two positive integers, got {sizes!r}")
        n_hidden = len(sizes) - 2
        if isinstance(activation, (list, tuple)):
            if len(activation) != n_hidden:
                raise ValueError(f"activation list must have one entry per hidden layer "
                                 f"({n_hidden}), got {len(activation)}")
            hidden = [_act.get(a) for a in activation]
        else:
            hidden = [_act.get(activation)] * n_hidden
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        from refopt.nn.init import SCHEMES
        if init not in SCHEMES:
            raise ValueError(f"init must be one of {list(SCHEMES)}, got {init!r}")
        if not isinstance(batch_norm, bool):
            raise TypeError(f"batch_norm must be a bool, got {batch_norm!r}")
        self.sizes, self.batch_norm = sizes, batch_norm
        self.activations = hidden + [_act.get(output_activation)]
        self.loss_name = loss
        self.init_scheme = init
        self._loss, self._per_example_loss = LOSSES[loss]

    @property
    def smooth(self) -> bool:
        """True when every activation is analytic (complex-step checks apply)."""
        return all(a.smooth for a in self.activations)

    # ------------------------------------------------------------------------------ params
    def init(self, seed: int = 0, *, xp: Any = np, dtype: Any = None, device: Any = None) -> list:
        """Seeded parameters in namespace ``xp`` (default NumPy float64)."""
        rng = np.random.default_rng(seed)
        dtype = xp.float64 if dtype is None else dtype
        params = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            W = init_weight(self.init_scheme, fan_in, fan_out, rng)
            kw = {} if device is None else {"device": device}
            params.append({"W": xp.asarray(W, dtype=dtype, **kw),
                           "b": xp.zeros((fan_out,), dtype=dtype, **kw)})
            if self.batch_norm and len(params) < len(self.sizes) - 1:
                params[-1].update(gamma=xp.ones((fan_out,), dtype=dtype, **kw),
                                  beta=xp.zeros((fan_out,), dtype=dtype, **kw))
        return params

    # ----------------------------------------------------------------------------- forward
    def _check(self, params: Any, x: Any) -> Any:
        """All validation of a call, once (the layer loops then run unchecked); returns xp."""
        if not isinstance(params, list) or len(params) != len(self.sizes) - 1:
            raise ValueError(f"params must be a list of {len(self.sizes) - 1} layer dicts")
        xp = _xp.namespace(params, x, names=("params", "x"))
        for i, (layer, d_in, d_out) in enumerate(zip(params, self.sizes[:-1], self.sizes[1:])):
            if not isinstance(layer, dict) or "W" not in layer or "b" not in layer:
                got = sorted(layer) if isinstance(layer, dict) else type(layer).__name__
                raise ValueError(f"params[{i}] must be a dict with 'W' and 'b', got {got}")
            shapes = {k: tuple(v.shape) for k, v in layer.items()}
            want = {"W": (d_in, d_out), "b": (d_out,)}
            if "gamma" in layer or "beta" in layer:
                want.update(gamma=(d_out,), beta=(d_out,))
            if shapes != want:
                raise ValueError(f"params[{i}] must have shapes {want}, got {shapes}")
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"x must have shape (N, {self.sizes[0]}), got {tuple(x.shape)}")
        if not xp.isdtype(x.dtype, "real floating"):
            raise TypeError(f"x must be real floating point, got {x.dtype}")
        w_dtype = params[0]["W"].dtype
        if xp.isdtype(w_dtype, "real floating") and x.dtype != w_dtype:
            raise TypeError(f"x dtype {x.dtype} differs from params dtype {w_dtype}; refopt "
                            "never casts silently")
        _check_finite("x", x)
        return xp

    def _forward(self, params: list, x: Any, running: list | None = None, *,
                 keep: bool = True) -> tuple[Any, list]:
        """(output, per-layer caches); ``keep=False`` (output only) holds no layer's arrays."""
        h, caches = x, []
        for i, (layer, act) in enumerate(zip(params, self.activations)):
            z = affine(h, layer["W"], layer["b"])  # shapes checked once in _check
            bn = stats = None
            if "gamma" in layer:      # batch norm: train mode (batch statistics) or eval mode
                if running is None:
                    z, bn, stats = _bn.batchnorm_forward(z, layer["gamma"], layer["beta"])
                else:
                    z = _bn.batchnorm_eval(z, layer["gamma"], layer["beta"], running[i])
            a = act.forward(z)
            if keep:
                caches.append((h, z if act.uses_z else None, a, bn, stats))
            h = a
            del z, a  # an unused z is freed before the next product is allocated
        return h, caches

    def forward(self, params: list, x: Any, *, running: list | None = None) -> Any:
        """The network output (after the output activation), shape (N, d_out); with
        ``running`` (one :class:`~refopt.nn.RunningStats` per batch-norm layer, None
        elsewhere) batch norm runs in eval mode."""
        self._check(params, x)
        return self._forward(params, x, running, keep=False)[0]

    def batch_statistics(self, params: list, x: Any) -> list:
        """Each layer's batch-norm (μ, biased σ²) on the batch x (None for layers without),
        for :func:`~refopt.nn.update_running`."""
        self._check(params, x)
        return [c[4] for c in self._forward(params, x)[1]]

    def _target(self, out: Any, y: Any) -> Any:
        # binary_logistic on a single output: accept labels of shape (N,) too
        if self.loss_name == "binary_logistic" and out.shape[1] == 1 and y.ndim == 1:
            xp = array_api_compat.array_namespace(y)
            return xp.reshape(y, (y.shape[0], 1))
        return y

    def loss(self, params: list, x: Any, y: Any) -> Any:
        self._check(params, x)
        out = self._forward(params, x, keep=False)[0]
        return self._loss(out, self._target(out, y))[0]

    def per_example_losses(self, params: list, x: Any, y: Any) -> Any:
        self._check(params, x)
        out = self._forward(params, x, keep=False)[0]
        return self._per_example_loss(out, self._target(out, y))

    # ---------------------------------------------------------------------------- backward
    def backward(self, params: list, x: Any, dout: Any) -> list:
        """Vector–Jacobian product: gradients of ⟨dout, forward(params, x)⟩ w.r.t. params."""
        self._check(params, x)
        _, caches = self._forward(params, x)
        return self._backward(params, caches, dout)[0]

    def _backward(self, params: list, caches: list, dout: Any, per_example_scale: float = 0.0):
        xp = array_api_compat.array_namespace(dout)
        grads: list = [None] * len(params)
        sq_norms = None
        dh = dout
        for i in range(len(params) - 1, -1, -1):
            h, z, a, bn, _ = caches[i]
            caches[i] = None  # release layer i's arrays as soon as they are used
            dz = self.activations[i].backward(z, a, dh)
            z = a = dh = None  # drop the references: their memory serves the next arrays
            extra = {}
            if bn is not None:
                dz, dgamma, dbeta = _bn.batchnorm_backward(bn, dz)
                extra = {"gamma": dgamma, "beta": dbeta}
            dW, db = dense_param_grads(xp, h, dz)
            grads[i] = {"W": dW, "b": db, **extra}
            if per_example_scale:
                layer = dense_per_example_sq_norms(h, per_example_scale * dz)
                sq_norms = layer if sq_norms is None else sq_norms + layer
            # dh = dz Wᵀ (Wᵀ a view); the input x needs no gradient, so layer 0 skips that GEMM
            dh = _buffers.matmul(dz, params[i]["W"].T) if i else None
        return grads, sq_norms, xp

    def loss_and_grad(self, params: list, x: Any, y: Any) -> tuple[Any, list]:
        """Mean loss over the batch and its gradient, structured like ``params``."""
        self._check(params, x)
        out, caches = self._forward(params, x)
        loss, dout = self._loss(out, self._target(out, y))
        return loss, self._backward(params, caches, dout)[0]

    def per_example_grad_sq_norms(self, params: list, x: Any, y: Any) -> Any:
        """‖∇ℓ_n‖² for every example n, without materialising per-example gradients.

        The mean-loss output gradient is dout_n = (1/N) ∂ℓ_n/∂out_n, and backpropagation acts
        on each example's row separately, so N·dz_n at every layer is example n's own signal;
        each dense layer then contributes ‖h_n‖²‖N dz_n‖² + ‖N dz_n‖².
        """
        if self.batch_norm:   # batch statistics couple the examples: no per-example split
            raise ValueError("per_example_grad_sq_norms is undefined with batch_norm=True")
        self._check(params, x)
        out, caches = self._forward(params, x)
        _, dout = self._loss(out, self._target(out, y))
        return self._backward(params, caches, dout, per_example_scale=float(x.shape[0]))[1]

    # ----------------------------------------------------------------------------- metrics
    def accuracy(self, params: list, x: Any, y: Any) -> float:
        """Fraction of correct predictions (argmax for softmax, out > 0 for binary logistic)."""
        out = self.forward(params, x)
        xp = array_api_compat.array_namespace(out)
        if self.loss_name == "binary_logistic":
            pred = xp.reshape(xp.astype(out > 0, xp.int64), (-1,))
            truth = xp.reshape(xp.astype(y, xp.int64), (-1,))
        elif self.loss_name == "softmax_cross_entropy":
            pred = xp.argmax(out, axis=1)
            truth = y if xp.isdtype(y.dtype, "integral") else xp.argmax(y, axis=1)
        else:
            raise ValueError("accuracy is defined for classification losses only")
        return float(xp.mean(xp.astype(pred == truth, xp.float64)))
