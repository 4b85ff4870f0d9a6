"""Record what an element-wise per-leaf function computes (for :mod:`refopt.elementwise`).

The function is called once with symbolic stand-ins: ``ArrayValue`` for each leaf array,
``ScalarValue`` for each per-step scalar, and a stand-in namespace for ``xp``. Every operation
is recorded in a :class:`Graph`:

* an operation among scalars and Python constants only is a *scalar step*, replayed at every
  call with the same Python operators (or the same NumPy function) the readable path applies,
  so η_t·√(1−β2^t)/(1−β1^t) is rounded exactly as there;
* an operation that touches an array is an *array step*, with the dtype NumPy's own promotion
  gives it (found by applying the operation to one-element stand-ins of the operand kinds).

Only element-wise operations have stand-ins; anything else (reductions, indexing, Python ``if``
on an array) raises ``TypeError`` naming the operation, so a rule that is not element-wise
cannot be fused by mistake.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

# array operations: name -> the NumPy function applied to one-element stand-ins (dtype rule)
UFUNCS: dict[str, Callable[..., Any]] = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.true_divide,
    "power": np.power, "negative": np.negative, "absolute": np.absolute, "sqrt": np.sqrt,
    "square": np.square, "exp": np.exp, "log": np.log, "maximum": np.maximum,
    "minimum": np.minimum, "sign": np.sign, "equal": np.equal, "not_equal": np.not_equal,
    "less": np.less, "less_equal": np.less_equal, "greater": np.greater,
    "greater_equal": np.greater_equal, "logical_and": np.logical_and,
    "logical_or": np.logical_or, "logical_not": np.logical_not, "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or, "invert": np.invert, "isnan": np.isnan,
    "isfinite": np.isfinite,
}
SPECIAL = ("where", "clip")
_COMPARISONS = frozenset({"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"})

# scalar operations replayed in Python: the operator the readable path applies
PY_OPS: dict[str, Callable[..., Any]] = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "power": operator.pow, "negative": operator.neg,
    "absolute": operator.abs, "equal": operator.eq, "not_equal": operator.ne,
    "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge,
}


class Ref(NamedTuple):
    """An operand: ``kind`` is "in" (leaf array i), "s" (scalar node), "a" (array node),
    "c" (a Python constant, ``index`` holds the value) or "full" (a constant array)."""

    kind: str
    index: Any


class Step(NamedTuple):
    op: str
    args: tuple[Ref, ...]
    dtype: Any  # np.dtype of the result for array steps; None for scalar steps
    compute: Any = None  # dtype the operands are cast to (comparisons: not the result's)


class Graph(NamedTuple):
    """The recorded function: inputs' dtypes, scalar names, steps, and the outputs."""

    name: str
    in_dtypes: tuple[np.dtype, ...]
    scalar_names: tuple[str, ...]
    scalar_steps: tuple[Step, ...]  # node i of kind "s" is scalar_names[i] or step i - len(names)
    array_steps: tuple[Step, ...]
    fulls: tuple[tuple[Any, np.dtype], ...]  # (value, dtype) of constant arrays
    outputs: tuple[Ref, ...]


class _Recorder:
    def __init__(self, in_dtypes: tuple[np.dtype, ...], scalars: dict[str, Any]) -> None:
        self.in_dtypes = in_dtypes
        self.scalar_names = tuple(scalars)
        self.scalar_samples: list[Any] = list(scalars.values())
        self.scalar_steps: list[Step] = []
        self.array_steps: list[Step] = []
        self.array_dtypes: list[np.dtype] = []
        self.fulls: list[tuple[Any, np.dtype]] = []

    # stand-in values used to work out the result type of an operation
    def sample(self, ref: Ref) -> Any:
        if ref.kind == "in":
            return np.ones(1, self.in_dtypes[ref.index])
        if ref.kind == "a":
            return np.ones(1, self.array_dtypes[ref.index])
        if ref.kind == "full":
            value, dtype = self.fulls[ref.index]
            return np.full(1, value, dtype)
        if ref.kind == "s":
            return self.scalar_samples[ref.index]
        return ref.index

    def record(self, op: str, args: tuple[Any, ...]) -> Any:
        refs = tuple(_as_ref(a) for a in args)
        if all(r.kind in ("s", "c") for r in refs):
            if not any(r.kind == "s" for r in refs):  # only constants: compute it now
                return _apply_scalar(op, tuple(r.index for r in refs))
            self.scalar_steps.append(Step(op, refs, None))
            value = _apply_scalar(op, tuple(self.sample(r) for r in refs))
            self.scalar_samples.append(value)
            return ScalarValue(self, len(self.scalar_samples) - 1)
        samples = tuple(self.sample(r) for r in refs)
        dtype = np.asarray(_apply_array(op, samples)).dtype
        compute = dtype
        if op in _COMPARISONS:  # operands meet in their common type, the result is bool
            compute = np.asarray(np.add(*samples)).dtype
        elif op in ("isnan", "isfinite"):  # a test of the operand as it is
            compute = np.asarray(samples[0]).dtype
        elif op == "where":
            compute = dtype
        self.array_steps.append(Step(op, refs, dtype, compute))
        self.array_dtypes.append(dtype)
        return ArrayValue(self, Ref("a", len(self.array_steps) - 1), dtype)

    def full(self, like: Any, value: Any) -> ArrayValue:
        dtype = like.dtype if isinstance(like, ArrayValue) else np.asarray(like).dtype
        self.fulls.append((value, np.dtype(dtype)))
        return ArrayValue(self, Ref("full", len(self.fulls) - 1), np.dtype(dtype))


def constant_key(value: Any) -> tuple:
    """A dict key that tells constants apart as the arithmetic does: by type and value, and for
    floats by sign too (0.0 == -0.0, but x + (-0.0) and x + 0.0 differ at x = -0.0)."""
    if isinstance(value, float):
        return (type(value), value, math.copysign(1.0, value))
    return (type(value), value)


def _apply_scalar(op: str, values: tuple[Any, ...]) -> Any:
    """A scalar step: the Python operator for an operator, the NumPy function otherwise
    (``xp.sqrt(bc2)`` on a Python float gives a NumPy float64 in the readable path too)."""
    if op in PY_OPS:
        return PY_OPS[op](*values)
    return _apply_array(op, values)


def _apply_array(op: str, values: tuple[Any, ...]) -> Any:
    if op == "where":
        return np.where(*values)
    if op == "clip":
        x, lo, hi = values
        return np.clip(x, None if lo is None else np.asarray(lo, np.asarray(x).dtype),
                       None if hi is None else np.asarray(hi, np.asarray(x).dtype))
    return UFUNCS[op](*values)


def _as_ref(x: Any) -> Ref:
    if isinstance(x, ArrayValue):
        return x.ref
    if isinstance(x, ScalarValue):
        return Ref("s", x.index)
    if x is None or isinstance(x, (bool, int, float, np.generic)):
        return Ref("c", x)
    raise TypeError(f"an element-wise leaf function received {type(x).__name__}; only arrays, "
                    "per-step scalars and Python numbers can be fused")


class _Value:
    """Operators shared by the scalar and array stand-ins."""

    rec: _Recorder

    def _op(self, op: str, *args: Any) -> Any:
        return self.rec.record(op, args)

    def __add__(self, o): return self._op("add", self, o)
    def __radd__(self, o): return self._op("add", o, self)
    def __sub__(self, o): return self._op("subtract", self, o)
    def __rsub__(self, o): return self._op("subtract", o, self)
    def __mul__(self, o): return self._op("multiply", self, o)
    def __rmul__(self, o): return self._op("multiply", o, self)
    def __truediv__(self, o): return self._op("divide", self, o)
    def __rtruediv__(self, o): return self._op("divide", o, self)
    def __pow__(self, o): return self._op("power", self, o)
    def __rpow__(self, o): return self._op("power", o, self)
    def __neg__(self): return self._op("negative", self)
    def __abs__(self): return self._op("absolute", self)
    def __eq__(self, o): return self._op("equal", self, o)  # type: ignore[override]
    def __ne__(self, o): return self._op("not_equal", self, o)  # type: ignore[override]
    def __lt__(self, o): return self._op("less", self, o)
    def __le__(self, o): return self._op("less_equal", self, o)
    def __gt__(self, o): return self._op("greater", self, o)
    def __ge__(self, o): return self._op("greater_equal", self, o)
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError("a per-leaf function branched in Python on a traced value; write the "
                        "branch with xp.where so that it stays element-wise")

    def __float__(self) -> float:
        raise TypeError("a per-leaf function converted a traced value to a Python float")


class ScalarValue(_Value):
    def __init__(self, rec: _Recorder, index: int) -> None:
        self.rec, self.index = rec, index


class ArrayValue(_Value):
    def __init__(self, rec: _Recorder, ref: Ref, dtype: np.dtype) -> None:
        self.rec, self.ref, self.dtype = rec, ref, dtype

    def __and__(self, o): return self._op("bitwise_and", self, o)
    def __rand__(self, o): return self._op("bitwise_and", o, self)
    def __or__(self, o): return self._op("bitwise_or", self, o)
    def __ror__(self, o): return self._op("bitwise_or", o, self)
    def __invert__(self): return self._op("invert", self)

    def __getattr__(self, name: str) -> Any:
        raise TypeError(f"element-wise leaf functions cannot use array attribute {name!r}")


class _Namespace:
    """The ``xp`` a traced leaf function sees: element-wise functions only."""

    def __init__(self, rec: _Recorder) -> None:
        self._rec = rec

    def __getattr__(self, name: str) -> Any:
        if name in UFUNCS:
            return lambda *args: self._rec.record(name, args)
        if name == "abs":
            return lambda x: self._rec.record("absolute", (x,))
        if name == "where":
            return lambda c, a, b: self._rec.record("where", (c, a, b))
        if name == "clip":
            return lambda x, min=None, max=None: self._rec.record("clip", (x, min, max))  # noqa: A006 (array API names)
        if name == "zeros_like":
            return lambda x: self._rec.full(x, 0)
        if name == "ones_like":
            return lambda x: self._rec.full(x, 1)
        raise TypeError(f"xp.{name} is not an element-wise operation refopt can fuse")


def trace(fn: Callable[..., Any], in_dtypes: tuple[str, ...], scalars: dict[str, Any],
          n_out: int, name: str = "leaf") -> Graph:
    """Call ``fn(xp, *arrays, **scalars)`` on stand-ins and return what it computed."""
    rec = _Recorder(tuple(np.dtype(d) for d in in_dtypes), scalars)
    arrays = [ArrayValue(rec, Ref("in", i), d) for i, d in enumerate(rec.in_dtypes)]
    named = {k: ScalarValue(rec, i) for i, k in enumerate(scalars)}
    out = fn(_Namespace(rec), *arrays, **named)
    outs = tuple(out) if n_out > 1 else (out,)
    if len(outs) != n_out:
        raise ValueError(f"{name}: the leaf function returned {len(outs)} values, expected {n_out}")
    return Graph(name, rec.in_dtypes, rec.scalar_names, tuple(rec.scalar_steps),
                 tuple(rec.array_steps), tuple(rec.fulls), tuple(_as_ref(o) for o in outs))


def ref_dtype(graph: Graph, r: Ref) -> np.dtype:
    """The dtype of an array operand or output; a scalar output is refused (outputs are arrays)."""
    if r.kind == "in":
        return graph.in_dtypes[r.index]
    if r.kind == "a":
        return graph.array_steps[r.index].dtype
    if r.kind == "full":
        return graph.fulls[r.index][1]
    raise TypeError(f"{graph.name}: an output of an element-wise leaf function must be an array "
                    "(it is a scalar)")


def scalar_values(graph: Graph, scalars: dict[str, Any]) -> list[Any]:
    """Replay the scalar steps for this call's scalars: values of every "s" node."""
    values = [scalars[k] for k in graph.scalar_names]
    for step in graph.scalar_steps:
        args = tuple(values[r.index] if r.kind == "s" else r.index for r in step.args)
        values.append(_apply_scalar(step.op, args))
    return values
