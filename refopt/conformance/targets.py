"""Framework optimizers by dotted name (``from_target``), and the numpy-ml adapter.

``torch.*``, ``optax.*``, ``keras.*`` and ``numpy_ml.*`` names are accepted:

>>> from refopt.conformance import from_target
>>> from_target("mxnet.optimizer.Adam")
Traceback (most recent call last):
ValueError: target must start with torch., optax., keras. or numpy_ml., got 'mxnet.optimizer.Adam'

"""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt.conformance.adapters import Candidate, Tree, from_keras, from_optax, from_torch


def from_numpy_ml(optimizer: Any) -> Candidate:
    """A numpy-ml optimizer object (``opt(param, grad, name)`` returns the new parameter).

    Each ``init`` deep-copies it, so one object serves several probes.
    """
    import copy

    def init(params: Tree) -> Any:
        return copy.deepcopy(optimizer)

    def update(grads: Tree, state: Any, params: Tree) -> tuple[Tree, Any]:
        out = {k: np.asarray(state(np.array(params[k]), np.array(grads[k]), k)) for k in params}
        return out, state

    return Candidate(type(optimizer).__name__, init, update)


def import_numpy_ml_optimizers() -> Any:
    """``numpy_ml.neural_nets.optimizers``; numpy-ml 0.1.2 imports ``collections.Hashable``,
    which Python 3.10 removed, so its alias ``collections.abc.Hashable`` is restored first."""
    import collections
    import collections.abc
    if not hasattr(collections, "Hashable"):
        collections.Hashable = collections.abc.Hashable
    import importlib
    return importlib.import_module("numpy_ml.neural_nets.optimizers")


def from_target(target: str, **kwargs: Any) -> Candidate:
    """A framework optimizer named by its dotted path, e.g. ``from_target("optax.adam", learning_rate=0.1)``.

    ``torch.*`` → :func:`from_torch`, ``optax.*`` → :func:`from_optax`, ``keras.*`` →
    :func:`from_keras`, ``numpy_ml.*`` → :func:`from_numpy_ml`.
    """
    import importlib
    module, _, attr = target.rpartition(".")
    if target.startswith("numpy_ml."):
        obj = getattr(import_numpy_ml_optimizers(), attr)
    elif target.startswith("keras."):
        import os
        os.environ.setdefault("KERAS_BACKEND", "jax")
        obj = getattr(importlib.import_module(module), attr)
    elif target.startswith(("torch.", "optax.")):
        obj = getattr(importlib.import_module(module), attr)
    else:
        raise ValueError(f"target must start with torch., optax., keras. or numpy_ml., got {target!r}")
    call = f"{target}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    if target.startswith(("torch.", "keras.")):
        inner = (from_torch if target.startswith("torch.") else from_keras)(obj, **kwargs)
    else:
        inner = (from_optax if target.startswith("optax.") else from_numpy_ml)(obj(**kwargs))
    return Candidate(call, inner.init, inner.update)
