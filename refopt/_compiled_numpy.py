"""Run a traced per-leaf function on NumPy as one compiled loop (execution ``"compiled"``).

The blocked evaluator (:mod:`refopt._fused_numpy`) already reads and writes each leaf once, but
it still calls one NumPy ufunc per operation per block, and each ufunc streams its operands
through the cache: an Adam step costs some 14 passes over cache-resident blocks. Here the
recorded operations become the body of one loop over the elements, generated as Python source
and compiled by Numba (LLVM): every intermediate lives in a register and the loop is
vectorised with the CPU's SIMD instructions.

**Why it is still the readable math bit for bit.** Each recorded operation is emitted as one
IEEE-754 operation of the step's dtype — ``+ − × ÷`` and ``sqrt`` are correctly rounded in both
NumPy's SIMD loops and LLVM's code, so they agree exactly; operands are cast to the dtype the
ufunc's loop would cast them to (per-step scalars on the host, as NumPy casts a Python scalar);
Numba does not contract a·b + c into a fused multiply–add unless fast-math is asked for, and it
is not; comparisons, ``where``, ``abs``, ``sign``, NaN-propagating ``maximum``/``minimum`` and
``clip`` are written with NumPy's own rules for NaN and signed zero. Operations whose NumPy
results are *not* correctly rounded (``exp``, ``log``, ``power``: NumPy has its own SIMD
implementations) are not compiled: a graph that uses one runs on the blocked evaluator instead,
which calls NumPy's own ufuncs. tests/test_fused.py pins compiled = readable for every
element-wise rule and configuration in float64 and float32; tests/test_compiled.py pins each
operation on NaN, ±0, ±inf and subnormals.

Numba is optional (``pip install "refopt[fast]"``); without it ``execution("compiled")`` raises.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from refopt import _buffers, _trace

# operations with a compiled form; anything else sends the graph to the blocked evaluator
_BINARY = {"add": "({0} + {1})", "subtract": "({0} - {1})", "multiply": "({0} * {1})",
           "divide": "({0} / {1})", "equal": "({0} == {1})", "not_equal": "({0} != {1})",
           "less": "({0} < {1})", "less_equal": "({0} <= {1})", "greater": "({0} > {1})",
           "greater_equal": "({0} >= {1})", "logical_and": "({0} & {1})",
           "logical_or": "({0} | {1})", "bitwise_and": "({0} & {1})", "bitwise_or": "({0} | {1})",
           "maximum": "_maximum({0}, {1})", "minimum": "_minimum({0}, {1})"}
_UNARY = {"negative": "(-{0})", "absolute": "abs({0})", "sqrt": "np.sqrt({0})",
          "square": "({0} * {0})", "logical_not": "(not {0})", "invert": "(not {0})",
          "isnan": "np.isnan({0})", "isfinite": "np.isfinite({0})", "sign": "_sign({0})"}
_FLOATS = ("float32", "float64")
_TYPES = (*_FLOATS, "bool")


def available() -> bool:
    """Whether Numba can be imported (the ``fast`` extra)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _helpers() -> dict[str, Any]:
    """NumPy's element rules for the operations that are not one IEEE operation, compiled."""
    import numba

    inline = numba.njit(inline="always", error_model="numpy")

    # np.maximum / np.minimum: a NaN operand wins (the first if both); between equal values
    # (+0 and −0) the second operand is returned, as NumPy's loops return it
    @inline
    def _maximum(a, b):
        if a != a:
            return a
        if b != b:
            return b
        return a if a > b else b

    @inline
    def _minimum(a, b):
        if a != a:
            return a
        if b != b:
            return b
        return a if a < b else b

    # np.clip with both bounds: a NaN bound gives NaN; x stays x unless it lies strictly outside
    # (so clip(−0, 0, 1) is −0), and the upper bound is applied last (lo > hi gives hi)
    @inline
    def _clip(x, lo, hi):
        if lo != lo:
            return lo
        if hi != hi:
            return hi
        r = lo if x < lo else x
        return hi if r > hi else r

    # np.sign: ±1, +0 for ±0, NaN kept
    @inline
    def _sign(a):
        if a > 0:
            return type(a)(1.0)
        if a < 0:
            return type(a)(-1.0)
        if a == 0:
            return type(a)(0.0)
        return a

    return {"np": np, "_maximum": _maximum, "_minimum": _minimum, "_clip": _clip, "_sign": _sign}


def _reports_errors() -> bool:
    """Whether NumPy's error state turns a floating-point exception into an exception or a call
    (``np.errstate(over="raise")``, ``np.seterrcall``): the compiled loop cannot see those
    exceptions, so the blocked evaluator (NumPy's ufuncs, which report them) runs instead. Under
    the default state ("warn") the compiled loop runs and emits no RuntimeWarning."""
    return any(v in ("raise", "call", "log") for v in np.geterr().values())


def _unsupported(graph: _trace.Graph) -> str | None:
    """Why this graph cannot be compiled (None if it can)."""
    for d in (*graph.in_dtypes, *(st.dtype for st in graph.array_steps)):
        if str(d) not in _TYPES:
            return f"dtype {d}"
    for st in graph.array_steps:
        if st.op not in _BINARY and st.op not in _UNARY and st.op not in ("where", "clip"):
            return f"operation {st.op}"
        if str(st.compute) not in _TYPES:
            return f"dtype {st.compute}"
    return None


class Program:
    """A compiled graph, run like :class:`refopt._fused_numpy.Program`."""

    def __init__(self, graph: _trace.Graph) -> None:
        self.graph = graph
        self.reason = _unsupported(graph)
        self._blocked_program: Any = None   # the blocked evaluator, built when first needed
        if self.reason is not None:   # not one IEEE operation per step: NumPy's own ufuncs
            return
        self.n_in = len(graph.in_dtypes)
        self.statics: list[tuple[str, Any, np.dtype]] = []   # (kind, payload, dtype)
        self._static_name: dict[tuple, str] = {}
        self._node_dtype: dict[int, np.dtype] = {}
        self.body = self._body()
        self.out_dtypes = [_trace.ref_dtype(graph, r) for r in graph.outputs]
        self._compiled: dict[tuple, Any] = {}

    # ---- code generation -------------------------------------------------------------------
    def _operand(self, r: _trace.Ref, dtype: np.dtype) -> str:
        """Expression of operand r converted to ``dtype`` (the type the ufunc loop reads)."""
        g = self.graph
        if r.kind in ("in", "a"):
            name = f"x{r.index}" if r.kind == "in" else f"v{r.index}"
            have = g.in_dtypes[r.index] if r.kind == "in" else self._node_dtype[r.index]
            return name if have == dtype else f"np.{dtype}({name})"
        if r.kind == "full":
            key: tuple = ("full", r.index, str(dtype))
            payload = g.fulls[r.index][0]
        else:
            key = (r.kind, r.index if r.kind == "s" else _trace.constant_key(r.index), str(dtype))
            payload = r.index
        if key not in self._static_name:
            self._static_name[key] = f"s{len(self.statics)}"
            self.statics.append((r.kind, payload, np.dtype(dtype)))
        return self._static_name[key]

    def _body(self) -> list[str]:
        lines = []
        for i, st in enumerate(self.graph.array_steps):
            if st.op == "where":
                c = self._operand(st.args[0], np.dtype(bool))
                a = self._operand(st.args[1], st.compute)
                b = self._operand(st.args[2], st.compute)
                expr = f"({a} if {c} else {b})"
            elif st.op == "clip":
                # NumPy's clip has two element rules: with both bounds scalars (broadcast, stride
                # 0) x stays x on a tie with a bound; otherwise (array bounds, or one bound) it is
                # maximum with the lower bound, then minimum with the upper, whose ties return
                # the bound
                expr = self._operand(st.args[0], st.dtype)
                lo, hi = st.args[1], st.args[2]
                no_lo, no_hi = (r.kind == "c" and r.index is None for r in (lo, hi))
                if not no_lo and not no_hi and lo.kind in ("s", "c") and hi.kind in ("s", "c"):
                    expr = (f"_clip({expr}, {self._operand(lo, st.dtype)}, "
                            f"{self._operand(hi, st.dtype)})")
                else:
                    if not no_lo:
                        expr = f"_maximum({expr}, {self._operand(lo, st.dtype)})"
                    if not no_hi:
                        expr = f"_minimum({expr}, {self._operand(hi, st.dtype)})"
            elif st.op in _BINARY:
                expr = _BINARY[st.op].format(self._operand(st.args[0], st.compute),
                                             self._operand(st.args[1], st.compute))
            else:
                expr = _UNARY[st.op].format(self._operand(st.args[0], st.compute))
            self._node_dtype[i] = st.dtype
            # the constructor pins the step's dtype (a no-op when Numba already has it)
            lines.append(f"v{i} = np.{st.dtype}({expr})")
        return lines

    def source(self, donors: tuple[int | None, ...]) -> str:
        """The loop's Python source; output k is stored into input ``donors[k]`` if not None.

        Every input element is loaded before any output element is stored, so writing an output
        into the buffer of an input it was computed from is safe element by element.
        """
        g = self.graph
        outs = [f"out{k}" for k in range(len(g.outputs)) if donors[k] is None]
        args = ["n", *(f"in{j}" for j in range(self.n_in)), *outs,
                *(f"s{k}" for k in range(len(self.statics)))]
        lines = [f"def refopt_{re.sub(r'[^0-9A-Za-z_]', '_', g.name)}({', '.join(args)}):",
                 "    for i in range(n):"]
        lines += [f"        x{j} = in{j}[i]" for j in range(self.n_in)]
        lines += [f"        {line}" for line in self.body]
        for k, r in enumerate(g.outputs):
            target = f"out{k}" if donors[k] is None else f"in{donors[k]}"
            lines.append(f"        {target}[i] = {self._operand(r, self.out_dtypes[k])}")
        return "\n".join(lines) + "\n"

    def _function(self, donors: tuple[int | None, ...]) -> Any:
        fn = self._compiled.get(donors)
        if fn is None:
            fn = self._compiled[donors] = _loop(self.source(donors), self.graph.name)
        return fn

    # ---- execution ---------------------------------------------------------------------------
    def run(self, calls: list[tuple[Any, ...]], scalars: dict[str, Any],
            donate: tuple[int | None, ...] | None = None) -> list[tuple[Any, ...]]:
        """Run on several leaves (one tuple of inputs each) with one step's scalars; ``donate``
        as in :meth:`refopt._fused_numpy.Program.run`."""
        if self.reason is not None or _reports_errors():
            return self.blocked().run(calls, scalars, donate)
        svals = _trace.scalar_values(self.graph, scalars)
        statics = [dtype.type(svals[payload] if kind == "s" else payload)
                   for kind, payload, dtype in self.statics]
        results = []
        pure = (None,) * len(self.out_dtypes)
        fn_pure = self._function(pure) if donate is None else None
        out_dtypes, empty = self.out_dtypes, _buffers.empty
        for leaves in calls:
            shape = leaves[0].shape
            flat_in = [a.ravel() for a in leaves]   # a view unless the leaf is not C-contiguous
            n = flat_in[0].size if flat_in else 0
            if fn_pure is not None:   # the common case, kept short: it runs once per leaf
                outs = [empty(shape, d) for d in out_dtypes]
                if n:
                    fn_pure(n, *flat_in, *[o.reshape(-1) for o in outs], *statics)
                results.append(tuple(outs))
                continue
            donors = self._donors(donate, leaves)
            outs = [empty(shape, d) if donors[k] is None else leaves[donors[k]]
                    for k, d in enumerate(out_dtypes)]
            if n:
                fresh = [o.reshape(-1) for k, o in enumerate(outs) if donors[k] is None]
                self._function(donors)(n, *flat_in, *fresh, *statics)
            results.append(tuple(outs))
        return results

    def blocked(self) -> Any:
        """The same graph on the blocked evaluator (NumPy's own ufuncs), built once."""
        if self._blocked_program is None:
            from refopt import _fused_numpy
            self._blocked_program = _fused_numpy.compile_graph(self.graph)
        return self._blocked_program

    def _donors(self, donate: Any, leaves: tuple[Any, ...]) -> tuple[int | None, ...]:
        """Output k goes into input j's buffer only if the caller donates it and it is a
        writeable C-contiguous array of output k's dtype that shares memory with no other
        input and is donated to no other output."""
        n_out = len(self.out_dtypes)
        if donate is None:
            return (None,) * n_out
        chosen: list[int | None] = []
        for k in range(n_out):
            j = donate[k]
            a = None if j is None else leaves[j]
            ok = (j is not None and isinstance(a, np.ndarray) and a.dtype == self.out_dtypes[k]
                  and a.flags.c_contiguous and a.flags.writeable and j not in chosen
                  and not any(i != j and np.may_share_memory(a, b) for i, b in enumerate(leaves)))
            chosen.append(j if ok else None)
        return tuple(chosen)


# one compiled loop per distinct source text: configuration constants are arguments of the loop,
# not part of its text, so optimizers that differ only in their constants (η, β, ε, λ) share one
# (Numba then compiles it once per argument dtypes)
_LOOPS: dict[str, Any] = {}


def _loop(source: str, name: str) -> Any:
    fn = _LOOPS.get(source)
    if fn is None:
        import numba

        namespace = dict(_helpers())
        exec(compile(source, f"<refopt {name}>", "exec"), namespace)
        func = next(v for k, v in namespace.items() if k.startswith("refopt_"))
        # error_model="numpy": x/0 gives ±inf or NaN as NumPy does, instead of raising
        fn = _LOOPS[source] = numba.njit(error_model="numpy", nogil=True)(func)
    return fn


def compile_graph(graph: _trace.Graph) -> Program:
    return Program(graph)
