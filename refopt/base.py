"""The shape of a rule, learning-rate schedules, and hyperparameter validation.

A rule is an :class:`Optimizer`: a pair of pure functions ::

    state = opt.init(params)
    params, state = opt.update(grads, state, params)

``update`` returns *new* parameters and state and never writes to its inputs. Schedules are
plain callables ``t -> float`` of the update index ``t = 1, 2, ...`` (:ref:`spec-conventions`: ``t``
starts at 1 on the first update).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, Protocol

from refopt import _xp
from refopt import execution_mode as _execution
from refopt import tree as _tree

Schedule = Callable[[int], float]


ExtraArg = Literal["grad_fn", "objective", "value"]
EXTRA_ARGS: frozenset[str] = frozenset({"grad_fn", "objective", "value"})


class InitFn(Protocol):
    """``init(params) -> state``: the state of a rule before its first update."""

    def __call__(self, params: Any, /) -> Any: ...


class UpdateFn(Protocol):
    """``update(grads, state, params, **extra) -> (params, state)``.

    Returns the *new parameters* θ_t (not an optax-style increment θ_t − θ_{t−1}) and the new
    state. ``extra`` holds exactly the keyword arguments named in the rule's
    ``Optimizer.extra_args``:

    - ``grad_fn``: a gradient oracle ``tree -> grads``; the rule evaluates ∇ℓ at points of its
      own choosing (look-ahead NAG, multi-stage Runge–Kutta). ``grads`` is then ``None``.
    - ``objective``: a finite sum with per-example access (Big Batch's sampling and line search);
      ``grads`` is then ``None``.
    - ``value``: the loss ℓ(θ_{t−1}) of the batch that gave ``grads`` (Polyak's step size).
    """

    def __call__(self, grads: Any, state: Any, params: Any, /, **extra: Any) -> tuple[Any, Any]: ...


class Optimizer(NamedTuple):
    """A rule: ``init(params) -> state`` and ``update(grads, state, params, **extra) -> (params, state)``.

    ``extra_args`` is the rule's own declaration of the keyword arguments its ``update`` needs
    beyond (grads, state, params), a subset of ``{"grad_fn", "objective", "value"}``. Drivers (the
    training loop, the registry's tests, the demo) read it instead of keeping lists of rule
    names.
    """

    init: InitFn
    update: UpdateFn
    extra_args: frozenset[str] = frozenset()


def optimizer(init: InitFn, update: UpdateFn, extra_args: frozenset[str] | set[str] = frozenset()
              ) -> Optimizer:
    """Build an :class:`Optimizer`, checking that ``extra_args`` names only known arguments."""
    extra = frozenset(extra_args)
    unknown = sorted(extra - EXTRA_ARGS)
    if unknown:
        raise ValueError(f"extra_args must be a subset of {sorted(EXTRA_ARGS)}, got {unknown}")
    return Optimizer(init, update, extra)


# ---------------------------------------------------------------------------------------------
# the allow-list of state classes, and rule tags (which rule, which configuration)

STATE_CLASSES: dict[str, type] = {}
_STATE_TYPES: set[type] = set()  # the same classes, for a fast type test in check_update_args


def register_state(cls: type) -> type:
    """Class decorator: allow ``cls`` (a NamedTuple state) to be re-created from a checkpoint.

    :func:`refopt.load_state` builds containers only from this table, keyed by the class's
    ``__qualname__``; a checkpoint naming anything else is refused. It never imports or looks
    up a name written in a file.
    """
    if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
        raise TypeError(f"register_state takes a NamedTuple class, got {cls!r}")
    key = cls.__qualname__
    if STATE_CLASSES.get(key, cls) is not cls:
        raise ValueError(f"a different state class is already registered as {key!r}")
    STATE_CLASSES[key] = cls
    _STATE_TYPES.add(cls)
    return cls


class RuleTag(NamedTuple):
    """Which factory built an optimizer, and its full configuration as JSON-able data."""

    name: str
    config: dict


def rule_tag(opt: Any) -> RuleTag | None:
    """The :class:`RuleTag` of an optimizer built by a refopt factory (None otherwise)."""
    return getattr(getattr(opt, "update", None), "__refopt_rule__", None)


def _config_value(v: Any) -> Any:
    """A hyperparameter as JSON data; a schedule as ``"<schedule>"`` (its values are not data)."""
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, numbers.Real):  # lr=1 and lr=1.0 are one configuration
        return repr(float(v))  # repr round-trips exactly, and keeps inf/nan valid JSON strings
    if rule_tag(v) is not None:
        tag = rule_tag(v)
        return {"rule": tag.name, "config": tag.config}
    if isinstance(v, (tuple, list)):
        return [_config_value(x) for x in v]
    if callable(v):
        return "<schedule>"
    return f"<{type(v).__name__}>"


EPSILON_ARGUMENTS = ("eps", "eps_root", "delta")  # the guards added to denominators


def check_epsilons_representable(rule: str, epsilons: dict, params: Any) -> None:
    """The low-precision policy: refuse an ε > 0 that rounds to 0 in a leaf's dtype.

    float16's smallest positive number is 2⁻²⁴ ≈ 6e−8, so the common ε = 1e−8 becomes 0 there
    and the rule silently runs with ε = 0. refopt computes in the leaf's dtype (it is a
    reference: no hidden upcast) and raises instead; use ε ≥ 6e−8 in float16, or keep float32
    master parameters as mixed-precision training does. float32/float64 are not checked (no
    ε a rule accepts underflows there in practice), bfloat16 has float32's exponent range.
    """
    seen: set = set()
    for leaf in _tree.leaves(params):
        dtype = getattr(leaf, "dtype", None)
        if dtype is None or dtype in seen:  # dtypes hash; one check per distinct dtype
            continue
        seen.add(dtype)
        if str(dtype) in ("float32", "float64"):
            continue
        xp = _xp.namespace(leaf)
        try:
            info = xp.finfo(dtype)
        except (AttributeError, TypeError, ValueError):
            continue  # a namespace without floating-point limits (e.g. a symbolic stand-in)
        # smallest subnormal = smallest normal · ε; a value at or below half of it rounds to 0
        # (round to nearest, ties to even)
        underflow = float(info.smallest_normal) * float(info.eps) / 2
        for arg, value in epsilons.items():
            if value <= underflow:
                raise ValueError(f"{rule}: {arg}={value!r} rounds to 0 in {dtype}, which would "
                                 f"silently run the rule with {arg}=0; pass an {arg} that is "
                                 f"representable in {dtype} (>= 6e-08 for float16) or use "
                                 "float32 parameters")


def rule_factory(name: str, state: type | tuple[type, ...] | None) -> Callable:
    """Decorator for a rule factory: tag what it builds and check the state class at update.

    The optimizer's ``update`` then (1) refuses a state of any class other than ``state`` (or
    the classes in ``state``, for a rule whose state type depends on its configuration; such a
    rule checks the exact class with :func:`check_state_type`) with a ``TypeError`` naming both —
    an Adam state is not an SGD state — and (2) carries a
    :class:`RuleTag` (``name`` and every argument after defaults) that :func:`refopt.save_state`
    records and :func:`refopt.load_state` checks.
    """
    def deco(factory: Callable) -> Callable:
        signature = inspect.signature(factory)

        @functools.wraps(factory)
        def build(*args: Any, **kwargs: Any) -> Any:
            opt = factory(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            tag = RuleTag(name, {k: _config_value(v) for k, v in bound.arguments.items()})
            epsilons = {k: v for k, v in bound.arguments.items()
                        if k in EPSILON_ARGUMENTS and isinstance(v, float) and v > 0.0}
            inner = opt.update

            @functools.wraps(inner)
            def update(grads: Any, state_: Any, params: Any, **kw: Any) -> Any:
                if state is not None:
                    check_state_type(name, state_, state)
                if epsilons:
                    check_epsilons_representable(name, epsilons, params)
                if _execution.get_donation():
                    return _donating_update(inner, grads, state_, params, kw)
                return inner(grads, state_, params, **kw)

            update.__refopt_rule__ = tag  # type: ignore[attr-defined]
            if dataclasses.is_dataclass(opt):
                return dataclasses.replace(opt, update=update)
            return opt._replace(update=update)

        return build

    return deco


def _donating_update(inner: Callable, grads: Any, state: Any, params: Any, kw: dict) -> Any:
    """A rule update under buffer donation. Only the outermost update's kernels donate (a
    wrapper may still read the params it passed to its inner rule), and only if no array of
    params or state shares memory with another: a wrapper's state may hold the very arrays it
    passes on as params (Lookahead's slow weights, schedule-free's z = x = θ₀), which a kernel
    that sees only its own inputs could not tell."""
    outermost = _execution.update_depth() == 0
    safe = not outermost or not _shares_memory([*_tree.leaves(params), *_tree.leaves(state)])
    with _execution.update_scope(donate=safe):
        return inner(grads, state, params, **kw)


def _shares_memory(leaves: list) -> bool:
    """Whether two NumPy arrays among ``leaves`` overlap in memory (byte bounds, sorted)."""
    import numpy as np
    byte_bounds = getattr(np.lib, "array_utils", np).byte_bounds  # NumPy 2 moved it
    bounds = sorted(byte_bounds(a) for a in leaves
                    if isinstance(a, np.ndarray) and a.size)
    return any(start < prev_end for (_, prev_end), (start, _) in zip(bounds, bounds[1:]))


def check_state_type(name: str, state: Any, expected: type | tuple[type, ...]) -> None:
    """Raise ``TypeError`` unless ``state`` is exactly of the class (one of the classes) expected."""
    classes = expected if isinstance(expected, tuple) else (expected,)
    if type(state) not in classes:
        wanted = " or ".join(c.__name__ for c in classes)
        raise TypeError(f"state is a {type(state).__name__}, but {name} needs the {wanted} "
                        "its init returns")


# ---------------------------------------------------------------------------------------------
# validation: every message names the argument and the accepted values


def check_real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """Return ``float(value)`` or raise ``ValueError`` naming ``name`` and its accepted range.

    ±inf is refused unless ``finite=False`` (for the few arguments whose limit value is
    meaningful, e.g. Nadam's ``momentum_decay=inf`` or a box bound): an infinite step size,
    decay or ε turns parameters into NaN instead of raising.
    """
    lo_br = "(" if low_open else "["
    hi_br = ")" if high_open else "]"
    accepted = f"{lo_br}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_br}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {accepted}, got {value!r}")
    v = float(value)
    if finite and math.isinf(v):
        raise ValueError(f"{name} must be finite, in {accepted}, got {value!r}")
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


def check_int(name: str, value: Any, *, low: int | None = None) -> int:
    """Return ``int(value)`` for an integer >= ``low``; booleans are not integers."""
    accepted = "an integer" + ("" if low is None else f" >= {low}")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {accepted}, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return int(value)


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
    return check_int(name, value, low=1)


# ---------------------------------------------------------------------------------------------
# checks at update time


def check_update_args(grads: Any, state: Any, params: Any) -> Any:
    """Validate one ``update`` call and return the array namespace.

    grads and params must have one structure, equal shapes and dtypes leaf by leaf (no silent
    broadcast or upcast); every array field of the state that mirrors params (a tree of the
    params' structure, or a tuple of such trees) must match them leaf by leaf too; and every
    array of grads, params and state must share one namespace and device. Nothing is computed
    before these checks, so a rejected call changes nothing.

    Each tree is walked once: params, grads and every state field are flattened a single time,
    and the readable leaf paths of the messages are built only when a check fails.
    """
    if not isinstance(getattr(state, "t", None), int) or isinstance(state.t, bool):
        raise TypeError(f"state must be the state returned by init/update, got {type(state).__name__}")
    params_leaves, params_def = _tree.flatten(params)
    grads_leaves, grads_def = _tree.flatten(grads)
    if grads_def != params_def:
        raise ValueError(f"pytree structure mismatch: params has structure {params_def} "
                         f"but grads has structure {grads_def}")
    state_arrays: list = []
    mirrored: list = []  # (name, leaves) of state fields with the params' structure
    _check_state_against(state, "state", params_def, params_leaves, state_arrays, mirrored)
    xp = _xp.namespace_of_leaves((("params", params_leaves, params_def),
                                  ("grads", grads_leaves, grads_def),
                                  ("state", state_arrays, None)))
    _check_leaves(params_def, "params", params_leaves, "grads", grads_leaves)
    for name, leaves in mirrored:
        _check_leaves(params_def, "params", params_leaves, name, leaves)
    return xp


def _check_state_against(node: Any, name: str, params_def: Any, params_leaves: list,
                         arrays: list, mirrored: list) -> None:
    """Walk a state's fields; every array-holding field must mirror params (see check_update_args).

    Every array met is appended to ``arrays`` (for the namespace and device check, made
    first), and every field with the params' structure to ``mirrored`` (its leaves are
    compared with params' after that)."""
    if type(node) in _STATE_TYPES:  # a rule's state: its fields, without flattening it whole
        _check_fields(node, name, params_def, params_leaves, arrays, mirrored)
        return
    leaves, treedef = _tree.flatten(node)
    found = [x for x in leaves if _xp.is_array(x)]
    if not found:
        return  # counters, floats, flags, () placeholders
    arrays.extend(found)
    if treedef == params_def:
        mirrored.append((name, leaves))
        return
    if _tree.is_namedtuple(node):
        del arrays[len(arrays) - len(found):]  # the fields add their own
        _check_fields(node, name, params_def, params_leaves, arrays, mirrored)
        return
    if isinstance(node, (tuple, list)) and all(_tree.structure(c) == params_def for c in node):
        del arrays[len(arrays) - len(found):]
        for i, child in enumerate(node):  # a history of params-shaped trees (multistep)
            _check_state_against(child, f"{name}[{i}]", params_def, params_leaves, arrays, mirrored)
        return
    raise ValueError(f"{name} has structure {treedef} but params has structure {params_def}: "
                     "the state was made for other parameters (pass the state init made for these)")


def _check_fields(node: Any, name: str, params_def: Any, params_leaves: list, arrays: list,
                  mirrored: list) -> None:
    # Three declared kinds of field whose arrays do not mirror params leaf for leaf (kept apart
    # because their checks differ): ``PER_LEAF_SCALARS`` hold one 0-d array per leaf, checked
    # here in full (NovoGrad's layer-wise moment); ``leaf_summaries`` hold one summary per leaf
    # of a rule-specific shape (Adafactor's row/column factors, SM3's per-axis accumulators),
    # checked here for structure and by the rule's ``check_leaf_summaries_like`` for shapes;
    # ``sub_states`` hold an inner rule's state for a subset of the leaves, which that rule's
    # own update checks (Muon's fallback)
    scalars = getattr(type(node), "PER_LEAF_SCALARS", ())
    summaries = getattr(type(node), "leaf_summaries", ())
    inner = getattr(type(node), "sub_states", ())
    for field, child in zip(node._fields, node):
        if field in inner or field in summaries:
            arrays.extend(x for x in _tree.leaves(child) if _xp.is_array(x))
            if field in summaries:
                _check_leaf_summaries(child, f"{name}.{field}", params_def, len(params_leaves))
        elif field in scalars:
            arrays.extend(x for x in _tree.leaves(child) if _xp.is_array(x))
            _check_per_leaf_scalars(child, f"{name}.{field}", params_def, params_leaves)
        else:
            _check_state_against(child, f"{name}.{field}", params_def, params_leaves, arrays,
                                 mirrored)


def _check_leaf_summaries(node: Any, name: str, params_def: Any, n_leaves: int) -> None:
    """One summary per params leaf: params' structure, or a list/tuple with one entry per leaf."""
    if _tree.structure(node) == params_def:
        return
    if isinstance(node, (list, tuple)) and len(node) == n_leaves:
        return
    raise ValueError(f"{name} has structure {_tree.structure(node)} but params has {n_leaves} leaves "
                     f"(structure {params_def}): the state was made for other parameters (pass the "
                     "state init made for these)")


def check_leaf_summaries_like(state: Any, expected: Any) -> None:
    """The ``leaf_summaries`` fields of ``state`` have the structure, shapes and dtypes of those of
    ``expected`` (what the rule's init makes for these params); the rule calls this at update,
    before computing, since :func:`check_update_args` cannot know a summary's shape."""
    for field in getattr(type(state), "leaf_summaries", ()):
        got, got_def = _tree.flatten(getattr(state, field))
        want, want_def = _tree.flatten(getattr(expected, field))
        if got_def != want_def:
            raise ValueError(f"state.{field} has structure {got_def} but these params need {want_def}: "
                             "the state was made for other parameters (pass the state init made for these)")
        for i, (x, y) in enumerate(zip(got, want)):
            if tuple(x.shape) != tuple(y.shape):
                raise ValueError(f"state.{field} entry {i} has shape {tuple(x.shape)} but these params need "
                                 f"{tuple(y.shape)}: the state was made for other parameters")
            if x.dtype != y.dtype:
                raise TypeError(f"state.{field} entry {i} is {x.dtype} but these params need {y.dtype}; "
                                "refopt never casts silently")


def _check_per_leaf_scalars(node: Any, name: str, params_def: Any, params_leaves: list) -> None:
    """A state field a rule declares in its class's ``PER_LEAF_SCALARS``: params' structure,
    each leaf a 0-d array of its params leaf's dtype."""
    leaves, treedef = _tree.flatten(node)
    if treedef != params_def:
        raise ValueError(f"{name} has structure {treedef} but params has structure {params_def}: "
                         "the state was made for other parameters (pass the state init made for these)")
    for i, (x, y) in enumerate(zip(params_leaves, leaves)):
        if not (_xp.is_array(x) and _xp.is_array(y)):
            continue  # the namespace check names the offending leaf
        if tuple(y.shape) != ():
            raise ValueError(f"shape mismatch at {_path(params_def, i)}: {name} must hold a 0-d "
                             f"array per leaf, has {tuple(y.shape)}")
        if x.dtype != y.dtype:
            raise TypeError(f"dtype mismatch at {_path(params_def, i)}: params is {x.dtype}, "
                            f"{name} is {y.dtype}; refopt never casts silently")


def _path(treedef: Any, i: int) -> str:
    """The readable path of leaf i (built only for a message)."""
    return _tree.leaf_paths(treedef)[i]


def _check_leaves(treedef: Any, name_a: str, leaves_a: list, name_b: str, leaves_b: list) -> None:
    known = _xp.ARRAY_TYPES
    for i, (x, y) in enumerate(zip(leaves_a, leaves_b)):
        if not ((type(x) in known or _xp.is_array(x)) and (type(y) in known or _xp.is_array(y))):
            continue  # the namespace check names the offending leaf
        if x.shape != y.shape and tuple(x.shape) != tuple(y.shape):
            raise ValueError(f"shape mismatch at {_path(treedef, i)}: {name_a} has "
                             f"{tuple(x.shape)}, {name_b} has {tuple(y.shape)}")
        if x.dtype != y.dtype:
            raise TypeError(f"dtype mismatch at {_path(treedef, i)}: {name_a} is {x.dtype}, "
                            f"{name_b} is {y.dtype}; refopt never casts silently")


def check_leafwise_compatible(name_a: str, a: Any, name_b: str, b: Any) -> None:
    leaves_a, treedef = _tree.flatten(a)
    _check_leaves(treedef, name_a, leaves_a, name_b, _tree.leaves(b))


def check_init_params(params: Any) -> Any:
    """Validate ``params`` for ``init``: array leaves of one namespace, floating dtype."""
    xp = _xp.namespace(params, names=("params",))
    leaves, treedef = _tree.flatten(params)
    for path, leaf in zip(_tree.leaf_paths(treedef), leaves):
        try:
            floating = xp.isdtype(leaf.dtype, "real floating")
        except TypeError:  # an extension dtype such as ml_dtypes' bfloat16: not an array-API dtype
            floating = False
        if not floating:
            raise TypeError(f"params{'' if path == '<root>' else path} has dtype {leaf.dtype}; "
                            "refopt rules need real floating-point parameters")
    return xp


def zeros_like(params: Any) -> Any:
    xp = _xp.namespace(params)
    return _tree.map(xp.zeros_like, params)


def full_like(params: Any, value: float) -> Any:
    xp = _xp.namespace(params)
    return _tree.map(lambda p: xp.full_like(p, value), params)
