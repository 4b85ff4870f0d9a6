"""Losses returning the mean loss and its gradient w.r.t. the predictions (:ref:`spec-networks`).

Conventions (stated because frameworks differ):

- :func:`mse`: mean over **all** elements, L = (1/(N K)) Σ_{n,k} (p_nk − t_nk)² (torch's
  ``MSELoss()``); per-example ℓ_n = (1/K) Σ_k (p_nk − t_nk)².
- :func:`softmax_cross_entropy`: L = (1/N) Σ_n [logsumexp(z_n) − Σ_k y_nk z_nk] with integer
  labels (y one-hot) or rows of class probabilities; the log-sum-exp subtracts the row max.
- :func:`binary_logistic`: L = (1/N) Σ_n [softplus(z_n) − y_n z_n], y ∈ {0, 1}.

Each function is ``(pred, target) -> (loss, dpred)`` with ``dpred = ∂L/∂pred`` (so it carries
the 1/N); ``per_example_*`` return the vector of ℓ_n. Invalid targets raise ``ValueError`` naming
the argument. The formulas are complex-analytic in ``pred`` for complex-step checks.
"""

from __future__ import annotations

from typing import Any, Literal

import array_api_compat

from refopt.nn.activations import _sigmoid_fwd, _softplus_fwd, real_part


def _check_finite(name: str, x: Any) -> None:
    xp = array_api_compat.array_namespace(x)
    if xp.isdtype(x.dtype, ("real floating", "complex floating")):
        if not bool(xp.all(xp.isfinite(x))):
            raise ValueError(f"{name} contains NaN or inf")


def _check_batch(pred: Any, target: Any) -> None:
    if pred.ndim < 1 or target.ndim < 1 or pred.shape[0] != target.shape[0]:
        raise ValueError(f"target has {target.shape[0] if target.ndim else 'no'} examples but "
                         f"pred has {pred.shape[0] if pred.ndim else 'no'}: shapes "
                         f"{tuple(target.shape)} and {tuple(pred.shape)}")


def per_example_mse(pred: Any, target: Any) -> Any:
    xp = array_api_compat.array_namespace(pred)
    _validate_mse(pred, target)
    diff = pred - target
    return xp.mean(xp.reshape(diff * diff, (pred.shape[0], -1)), axis=1)


def mse(pred: Any, target: Any) -> tuple[Any, Any]:
    xp = array_api_compat.array_namespace(pred)
    _validate_mse(pred, target)
    diff = pred - target
    size = 1
    for s in pred.shape:
        size *= s
    loss = xp.sum(diff * diff) / size
    if not xp.isdtype(diff.dtype, ("real floating", "complex floating")):
        return loss, (2.0 / size) * diff   # integer predictions: the scaling promotes
    diff *= 2.0 / size  # diff is ours: the gradient (2/size)·diff in place
    return loss, diff


def _validate_mse(pred, target):
    _check_batch(pred, target)
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"target shape {tuple(target.shape)} must equal pred shape "
                         f"{tuple(pred.shape)} for mse")
    _check_finite("target", target)


def _one_hot(logits: Any, labels: Any) -> Any:
    """Integer labels → one-hot in logits' dtype; probability rows pass through (validated)."""
    xp = array_api_compat.array_namespace(logits)
    _check_batch(logits, labels)
    n, k = logits.shape
    if xp.isdtype(labels.dtype, "integral"):
        if labels.ndim != 1:
            raise ValueError(f"integer labels must have shape (N,), got {tuple(labels.shape)}")
        if n and (int(xp.min(labels)) < 0 or int(xp.max(labels)) >= k):
            raise ValueError(f"labels must lie in [0, {k - 1}] for {k} classes, got range "
                             f"[{int(xp.min(labels))}, {int(xp.max(labels))}]")
        classes = xp.arange(k, device=array_api_compat.device(logits))
        return xp.astype(labels[:, None] == classes[None, :], logits.dtype)
    if tuple(labels.shape) != (n, k):
        raise ValueError(f"labels must be integers of shape ({n},) or class probabilities of "
                         f"shape ({n}, {k}), got {labels.dtype} {tuple(labels.shape)}")
    _check_finite("labels", labels)
    return xp.astype(labels, logits.dtype)


def _log_softmax(logits: Any) -> Any:
    xp = array_api_compat.array_namespace(logits)
    shift = xp.max(real_part(logits), axis=1, keepdims=True)  # a constant: keeps analyticity
    z = logits - shift
    z -= xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))  # z is ours: in place, same rounding
    return z


def per_example_softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    xp = array_api_compat.array_namespace(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), got {tuple(logits.shape)}")
    y = _one_hot(logits, labels)
    return -xp.sum(y * _log_softmax(logits), axis=1)


def softmax_cross_entropy(logits: Any, labels: Any) -> tuple[Any, Any]:
    xp = array_api_compat.array_namespace(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), got {tuple(logits.shape)}")
    y = _one_hot(logits, labels)
    logp = _log_softmax(logits)
    n = logits.shape[0]
    # Σ_k y_nk = 1 for each row, so ∂ℓ_n/∂z_n = softmax(z_n) − y_n: formed once, in one array
    grad = xp.exp(logp)
    grad -= y
    grad /= n
    return -xp.sum(y * logp) / n, grad


def _binary_targets(logits: Any, labels: Any) -> Any:
    xp = array_api_compat.array_namespace(logits)
    _check_batch(logits, labels)
    if tuple(labels.shape) != tuple(logits.shape):
        raise ValueError(f"labels shape {tuple(labels.shape)} must equal logits shape "
                         f"{tuple(logits.shape)} for binary_logistic")
    y = xp.astype(labels, logits.dtype)
    if not bool(xp.all((real_part(y) == 0) | (real_part(y) == 1))):
        raise ValueError("labels must be 0 or 1 for binary_logistic")
    return y


def per_example_binary_logistic(logits: Any, labels: Any) -> Any:
    xp = array_api_compat.array_namespace(logits)
    y = _binary_targets(logits, labels)
    per = _softplus_fwd(logits) - y * logits
    return xp.mean(xp.reshape(per, (logits.shape[0], -1)), axis=1)


def binary_logistic(logits: Any, labels: Any) -> tuple[Any, Any]:
    xp = array_api_compat.array_namespace(logits)
    y = _binary_targets(logits, labels)
    size = 1
    for s in logits.shape:
        size *= s
    return xp.sum(_softplus_fwd(logits) - y * logits) / size, (_sigmoid_fwd(logits) - y) / size


# the losses by name; tests/test_nn.py checks LossName against LOSSES
LossName = Literal["mse", "softmax_cross_entropy", "binary_logistic"]
LOSSES = {
    "mse": (mse, per_example_mse),
    "softmax_cross_entropy": (softmax_cross_entropy, per_example_softmax_cross_entropy),
    "binary_logistic": (binary_logistic, per_example_binary_logistic),
}
