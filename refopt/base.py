"""The shape of a rule, learning-rate schedules, and hyperparameter validation.

A rule is an :class:`Optimizer`: a pair of pure functions ::

    state = opt.init(params)
    params, state = opt.update(grads, state, params)

``update`` returns *new* parameters and state and never writes to its inputs. Schedules are
plain callables ``t -> float`` of the update index ``t = 1, 2, ...`` (:ref:`spec-conventions`: ``t``
starts at 1 on the first update).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from refopt import _xp
from refopt import tree as _tree

Schedule = Callable[[int], float]


class Optimizer(NamedTuple):
    """A rule: ``init(params) -> state`` and ``update(grads, state, params) -> (params, state)``."""

    init: Callable[..., Any]
    update: Callable[..., Any]


# ---------------------------------------------------------------------------------------------
# validation: every message names the argument and the accepted values


def check_real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``float(value)`` or raise ``ValueError`` naming ``name`` and its accepted range."""
    lo_br = "(" if low_open else "["
    hi_br = ")" if high_open else "]"
    accepted = f"{lo_br}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_br}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {accepted}, got {value!r}")
    v = float(value)
    bad = math.isnan(v)
    if low is not None:
        bad = bad or (v <= low if low_open else v < low)
    if high is not None:
        bad = bad or (v >= high if high_open else v > high)
    if bad:
        raise ValueError(f"{name} must be in {accepted}, got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_beta(name: str, value: Any) -> float:
    """A decay rate in [0, 1)."""
    return check_real(name, value, low=0.0, high=1.0, high_open=True)


def as_schedule(name: str, value: Any) -> Schedule:
    """Accept a float >= 0 or a callable ``t -> float``; return a validating callable.

    A callable's value is checked at every step (finite, >= 0) before anything is computed, so a
    bad schedule value raises instead of corrupting the state.
    """
    if callable(value):
        fn = value

        def checked(t: int) -> float:
            v = fn(t)
            try:
                return check_real(f"{name}({t})", v, low=0.0)
            except (TypeError, ValueError) as err:
                raise ValueError(f"schedule {name} returned an invalid value at t={t}: {err}") from None

        return checked
    const = check_real(name, value, low=0.0)
    if math.isinf(const):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return lambda t: const


# ---------------------------------------------------------------------------------------------
# schedules (t = 1 is the first update)


def constant(value: float) -> Schedule:
    """η_t = value."""
    v = check_real("value", value, low=0.0)
    return lambda t: v


def exponential_decay(init: float, rate: float, decay_steps: int = 1) -> Schedule:
    """η_t = init · rate^((t−1)/decay_steps)."""
    init = check_real("init", init, low=0.0)
    rate = check_real("rate", rate, low=0.0, high=1.0)
    steps = _check_positive_int("decay_steps", decay_steps)
    return lambda t: init * rate ** ((t - 1) / steps)


def step_decay(init: float, factor: float, step_size: int) -> Schedule:
    """η_t = init · factor^⌊(t−1)/step_size⌋ (torch's StepLR with the first update at t = 1)."""
    init = check_real("init", init, low=0.0)
    factor = check_real("factor", factor, low=0.0, high=1.0)
    size = _check_positive_int("step_size", step_size)
    return lambda t: init * factor ** ((t - 1) // size)


def inverse_time_decay(init: float, decay: float) -> Schedule:
    """η_t = init / (1 + decay·(t−1)) — the form of torch's Adagrad ``lr_decay``."""
    init = check_real("init", init, low=0.0)
    decay = check_real("decay", decay, low=0.0)
    return lambda t: init / (1.0 + decay * (t - 1))


def cosine_decay(init: float, total_steps: int, final: float = 0.0) -> Schedule:
    """η_t = final + ½(init − final)(1 + cos(π·min(t−1, T)/T)), T = total_steps."""
    init = check_real("init", init, low=0.0)
    final = check_real("final", final, low=0.0)
    total = _check_positive_int("total_steps", total_steps)
    return lambda t: final + 0.5 * (init - final) * (1.0 + math.cos(math.pi * min(t - 1, total) / total))


def warmup(schedule: Schedule | float, warmup_steps: int) -> Schedule:
    """Linear warm-up: η_t = min(1, t/warmup_steps) · schedule(t)."""
    inner = as_schedule("schedule", schedule)
    steps = _check_positive_int("warmup_steps", warmup_steps)
    return lambda t: min(1.0, t / steps) * inner(t)


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# checks at update time


def check_update_args(grads: Any, state: Any, params: Any) -> Any:
    """Validate one ``update`` call and return the array namespace.

    grads and params must have one structure, equal shapes and dtypes leaf by leaf (no silent
    broadcast or upcast), and every array of grads, params and state must share one namespace
    and device.
    """
    if not isinstance(getattr(state, "t", None), int):
        raise TypeError(f"state must be the state returned by init/update, got {type(state).__name__}")
    _tree.assert_same_structure(("params", "grads"), (params, grads))
    check_leafwise_compatible("params", params, "grads", grads)
    return _xp.namespace(params, grads, _state_arrays(state), names=("params", "grads", "state"))


def check_leafwise_compatible(name_a: str, a: Any, name_b: str, b: Any) -> None:
    leaves_a, treedef = _tree.flatten(a)
    leaves_b = _tree.leaves(b)
    for path, x, y in zip(_tree.leaf_paths(treedef), leaves_a, leaves_b):
        if not (_xp.is_array(x) and _xp.is_array(y)):
            continue  # the namespace check names the offending leaf
        if tuple(x.shape) != tuple(y.shape):
            raise ValueError(f"shape mismatch at {path}: {name_a} has {tuple(x.shape)}, "
                             f"{name_b} has {tuple(y.shape)}")
        if x.dtype != y.dtype:
            raise TypeError(f"dtype mismatch at {path}: {name_a} is {x.dtype}, {name_b} is "
                            f"{y.dtype}; refopt never casts silently")


def _state_arrays(state: Any) -> list:
    return [leaf for leaf in _tree.leaves(state) if _xp.is_array(leaf)]


def check_init_params(params: Any) -> Any:
    """Validate ``params`` for ``init``: array leaves of one namespace, floating dtype."""
    xp = _xp.namespace(params, names=("params",))
    leaves, treedef = _tree.flatten(params)
    for path, leaf in zip(_tree.leaf_paths(treedef), leaves):
        if not xp.isdtype(leaf.dtype, "real floating"):
            raise TypeError(f"params{'' if path == '<root>' else path} has dtype {leaf.dtype}; "
                            "refopt rules need real floating-point parameters")
    return xp


def zeros_like(params: Any) -> Any:
    xp = _xp.namespace(params)
    return _tree.map(xp.zeros_like, params)


def full_like(params: Any, value: float) -> Any:
    xp = _xp.namespace(params)
    return _tree.map(lambda p: xp.full_like(p, value), params)
