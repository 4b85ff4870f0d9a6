"""Candidates: another implementation wrapped as ``init(params)`` / ``update(grads, state, params)``.

Every adapter takes and returns dicts of NumPy arrays and returns *new parameters*, like a refopt
rule. Frameworks that return updates (optax) or mutate parameters in place (torch, Keras) are
converted here, so :func:`refopt.conformance.compare` never needs to know which kind it has.

>>> import numpy as np
>>> from refopt.conformance import from_step
>>> sgd = from_step(lambda p: None, lambda g, s, p: ({k: p[k] - 0.1 * g[k] for k in p}, s))
>>> print(sgd.update({"w": np.array([1.0])}, sgd.init({"w": np.array([0.0])}), {"w": np.array([0.0])})[0])
{'w': array([-0.1])}
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Tree = dict[str, np.ndarray]


@dataclass(frozen=True)
class Candidate:
    """An implementation under test: ``init(params) -> state``, ``update(g, s, p) -> (p, s)``."""

    name: str
    init: Callable[[Tree], Any]
    update: Callable[[Tree, Any, Tree], tuple[Tree, Any]]


def from_step(init_fn: Callable[[Tree], Any], step_fn: Callable[[Tree, Any, Tree], tuple[Tree, Any]],
              *, name: str = "step_fn") -> Candidate:
    """Plain callables: ``init_fn(params) -> state``, ``step_fn(grads, state, params) -> (params, state)``."""
    return Candidate(name, init_fn, lambda g, s, p, **kw: _as_numpy(step_fn(g, s, p, **kw), p))


def _as_numpy(out: tuple, like: Tree) -> tuple[Tree, Any]:
    params, state = out
    return {k: np.asarray(params[k], dtype=like[k].dtype) for k in like}, state


def from_torch(cls_or_factory: Callable[..., Any], **kwargs: Any) -> Candidate:
    """A ``torch.optim.Optimizer`` class (or ``factory(param_list, **kwargs)``), run on CPU tensors.

    In float64 the torch default dtype is float64 while it steps: torch keeps some scalar state
    (NAdam's μ-product, step counters) in tensors of the default dtype.
    """
    import torch

    def init(params: Tree) -> Any:
        tensors = {k: torch.tensor(np.array(v)) for k, v in params.items()}
        with _torch_dtype(torch, params):
            return tensors, cls_or_factory(list(tensors.values()), **kwargs)

    def update(grads: Tree, state: Any, params: Tree) -> tuple[Tree, Any]:
        tensors, opt = state
        for k, v in tensors.items():
            v.grad = torch.tensor(np.array(grads[k]))
        with _torch_dtype(torch, params):
            opt.step()
        return {k: v.detach().numpy().copy() for k, v in tensors.items()}, state

    return Candidate(_name(cls_or_factory, kwargs), init, update)


@contextlib.contextmanager
def _torch_dtype(torch: Any, params: Tree):
    previous = torch.get_default_dtype()
    wide = any(np.asarray(v).dtype == np.float64 for v in params.values())
    torch.set_default_dtype(torch.float64 if wide else torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def from_optax(transformation: Any, *, name: str | None = None) -> Candidate:
    """An ``optax.GradientTransformation``; its *updates* are added to the parameters here.

    Float64 needs JAX's x64 mode, which this adapter switches on (a process-wide JAX setting).
    """
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    # compiled once per candidate: an eager update dispatches every operation separately, which
    # makes unrolled transformations (optax.contrib.muon's Newton–Schulz loop) about a minute
    # per trajectory; compiled, the update computes the same float64 operations
    step = jax.jit(transformation.update)

    def init(params: Tree) -> Any:
        return transformation.init({k: jnp.asarray(v) for k, v in params.items()})

    def update(grads: Tree, state: Any, params: Tree, **extra: Any) -> tuple[Tree, Any]:
        # extra: the loss ``value=`` of a rule that declares it (optax's polyak_sgd takes it too)
        p = {k: jnp.asarray(v) for k, v in params.items()}
        updates, state = step({k: jnp.asarray(v) for k, v in grads.items()}, state, p, **extra)
        return {k: np.asarray(p[k] + updates[k]) for k in params}, state

    return Candidate(name or "optax transformation", init, update)


def from_keras(optimizer: Any, **kwargs: Any) -> Candidate:
    """A Keras 3 optimizer (any backend): a class (or factory) with ``kwargs``, or an instance.

    Each ``init`` builds a fresh optimizer: from the class, with Keras's ``floatx`` set to the
    parameters' dtype, so that its learning rate and other scalars are variables of that dtype;
    from an instance, through ``from_config(get_config())`` — then the learning rate is the
    value Keras stored, rounded to float32 if the instance was made with floatx float32.
    Float64 on the JAX backend needs JAX's x64 mode, switched on here when JAX is importable.
    """
    import keras
    with contextlib.suppress(ImportError):
        import jax
        jax.config.update("jax_enable_x64", True)
    is_instance = isinstance(optimizer, keras.optimizers.Optimizer)
    if is_instance and kwargs:
        raise TypeError("from_keras takes keyword arguments only with an optimizer class, not an instance")

    def init(params: Tree) -> Any:
        wide = any(np.asarray(v).dtype == np.float64 for v in params.values())
        previous = keras.config.floatx()
        keras.config.set_floatx("float64" if wide else "float32")
        try:
            opt = (type(optimizer).from_config(optimizer.get_config()) if is_instance
                   else optimizer(**kwargs))
        finally:
            keras.config.set_floatx(previous)
        variables = {k: keras.Variable(np.array(v), dtype=str(np.asarray(v).dtype))
                     for k, v in params.items()}
        opt.build(list(variables.values()))
        return variables, opt

    def update(grads: Tree, state: Any, params: Tree) -> tuple[Tree, Any]:
        variables, opt = state
        opt.apply_gradients([(np.array(grads[k]), variables[k]) for k in variables])
        return {k: np.array(keras.ops.convert_to_numpy(v.value)) for k, v in variables.items()}, state

    name = type(optimizer) if is_instance else optimizer
    return Candidate(_name(name, kwargs), init, update)


def _name(obj: Any, kwargs: dict) -> str:
    base = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}".lstrip(".")
    return base + "(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
