"""Run a traced per-leaf function on CuPy as one generated CUDA kernel (see :mod:`refopt.elementwise`).

The readable path launches one CuPy kernel per operator and writes every intermediate to
device memory; an Adam step then moves ~15 arrays of n elements. Here the recorded operations
become the body of one ``cupy.ElementwiseKernel``: the leaves are read once, the outputs written
once, everything else lives in registers. Each C expression is the one CuPy's own ufunc applies
(``in0 + in1``, ``sqrt(in0)``, NaN-propagating max/min, ``c ? a : b``), every operand is cast to
the type the ufunc's loop would cast it to (scalars on the host, as CuPy casts a Python scalar
to the loop's type), and the kernel is compiled with ``--fmad=false``: without it the compiler
may contract a·b + c into one fused multiply–add, rounded once instead of twice, and the fused
result would no longer be the readable one bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refopt import _trace

_CTYPE = {"float16": "float16", "float32": "float", "float64": "double", "bool": "bool",
          "int8": "signed char", "int16": "short", "int32": "int", "int64": "long long",
          "uint8": "unsigned char", "uint16": "unsigned short", "uint32": "unsigned int",
          "uint64": "unsigned long long"}

_BINARY = {"add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
           "divide": "{0} / {1}", "power": "pow({0}, {1})", "equal": "{0} == {1}",
           "not_equal": "{0} != {1}", "less": "{0} < {1}", "less_equal": "{0} <= {1}",
           "greater": "{0} > {1}", "greater_equal": "{0} >= {1}",
           "logical_and": "{0} && {1}", "logical_or": "{0} || {1}",
           "bitwise_and": "{0} & {1}", "bitwise_or": "{0} | {1}",
           # NaN-propagating, as numpy.maximum / cupy.maximum
           "maximum": "(isnan({0}) ? {0} : (isnan({1}) ? {1} : ({0} >= {1} ? {0} : {1})))",
           "minimum": "(isnan({0}) ? {0} : (isnan({1}) ? {1} : ({0} <= {1} ? {0} : {1})))"}
_UNARY = {"negative": "-{0}", "absolute": "abs({0})", "sqrt": "sqrt({0})",
          "square": "{0} * {0}", "exp": "exp({0})", "log": "log({0})",
          "logical_not": "!{0}", "invert": "!{0}", "isnan": "isnan({0})",
          "isfinite": "isfinite({0})",
          # array_api_compat's sign on CuPy: 0 for ±0, ±1, and NaN kept
          "sign": "(isnan({0}) ? {0} : ({0} > 0 ? ({T})1 : ({0} < 0 ? ({T})-1 : ({T})0)))"}


def _ctype(dtype: np.dtype) -> str:
    try:
        return _CTYPE[str(dtype)]
    except KeyError:
        raise TypeError(f"dtype {dtype} cannot be fused on CuPy") from None


class Program:
    """A compiled graph: call it with one CuPy leaf per input and the step's scalars."""

    def __init__(self, graph: _trace.Graph) -> None:
        import cupy

        self.graph = graph
        g = graph
        params = [f"{str(d)} in{i}" for i, d in enumerate(g.in_dtypes)]
        self.statics: list[tuple[str, Any, np.dtype]] = []  # (kind, payload, dtype)
        static_name: dict[tuple, str] = {}
        lines: list[str] = []
        node_dtype: dict[int, np.dtype] = {}

        def operand(r: _trace.Ref, dtype: np.dtype) -> str:
            """C expression of operand r converted to ``dtype`` (the loop's input type)."""
            if r.kind in ("in", "a"):
                name = f"in{r.index}" if r.kind == "in" else f"v{r.index}"
                have = g.in_dtypes[r.index] if r.kind == "in" else node_dtype[r.index]
                return name if have == dtype else f"(({_ctype(dtype)}){name})"
            if r.kind == "full":
                value = g.fulls[r.index][0]
                key = ("full", r.index, str(dtype))
                payload = value
            else:
                key = (r.kind, r.index if r.kind == "s" else _trace.constant_key(r.index), str(dtype))
                payload = r.index
            if key not in static_name:
                static_name[key] = f"s{len(self.statics)}"
                self.statics.append((r.kind, payload, np.dtype(dtype)))
            return static_name[key]

        for i, st in enumerate(g.array_steps):
            out_t = _ctype(st.dtype)
            if st.op == "where":
                c = operand(st.args[0], np.dtype(bool))
                a = operand(st.args[1], st.compute)
                b = operand(st.args[2], st.compute)
                expr = f"{c} ? {a} : {b}"
            elif st.op == "clip":
                x = operand(st.args[0], st.dtype)
                expr = x
                lo, hi = st.args[1], st.args[2]
                if not (lo.kind == "c" and lo.index is None):
                    expr = _BINARY["maximum"].format(f"({expr})", operand(lo, st.dtype))
                if not (hi.kind == "c" and hi.index is None):
                    expr = _BINARY["minimum"].format(f"({expr})", operand(hi, st.dtype))
            elif st.op in _BINARY:
                a = operand(st.args[0], st.compute)
                b = operand(st.args[1], st.compute)
                expr = _BINARY[st.op].format(a, b)
            elif st.op in _UNARY:
                a = operand(st.args[0], st.compute)
                expr = _UNARY[st.op].format(a, T=out_t)
            else:
                raise TypeError(f"{g.name}: {st.op} has no CUDA form")
            node_dtype[i] = st.dtype
            lines.append(f"const {out_t} v{i} = {expr};")
        outs = []
        self.out_dtypes = []
        for k, r in enumerate(g.outputs):
            if r.kind == "in":
                dtype = g.in_dtypes[r.index]
            elif r.kind == "a":
                dtype = node_dtype[r.index]
            elif r.kind == "full":
                dtype = g.fulls[r.index][1]
            else:
                raise TypeError(f"{g.name}: an output of an element-wise leaf function must be "
                                "an array (it is a scalar)")
            self.out_dtypes.append(dtype)
            outs.append(f"{str(dtype)} out{k}")
            lines.append(f"out{k} = {operand(r, dtype)};")
        static_params = [f"{str(d)} {static_name[key]}" for key, (_, _, d) in
                         zip(static_name, self.statics)]
        self.source = "\n".join(lines)
        name = "refopt_" + "".join(ch if ch.isalnum() else "_" for ch in g.name)
        # general form: any dtypes, any layout (CuPy's own indexing)
        self.kernel = cupy.ElementwiseKernel(", ".join(params + static_params), ", ".join(outs),
                                             self.source, name, options=("--fmad=false",))
        # fast form: one float dtype throughout, contiguous 16-byte-aligned leaves — each thread
        # moves 16 bytes per array per access (float4 / double2), as the peers' fused kernels do
        dtypes = set(g.in_dtypes) | set(self.out_dtypes)
        self.vector = None
        if len(dtypes) == 1 and str(next(iter(dtypes))) in _VECTOR:
            self.vector = _vector_kernel(name, g, self.out_dtypes, self.statics, static_name,
                                         self.source)
        self.dtype = next(iter(dtypes))

    def __call__(self, leaves: tuple[Any, ...], scalars: dict[str, Any]) -> tuple[Any, ...]:
        return self.run([leaves], scalars)[0]

    def run(self, calls: list[tuple[Any, ...]], scalars: dict[str, Any],
            donate: Any = None) -> list[tuple[Any, ...]]:
        """One kernel launch per leaf; the scalars are replayed once. (CuPy never donates.)"""
        svals = _trace.scalar_values(self.graph, scalars)
        statics = [dtype.type(svals[payload] if kind == "s" else payload)
                   for kind, payload, dtype in self.statics]
        return [self._launch(leaves, statics) for leaves in calls]

    def _launch(self, leaves: tuple[Any, ...], statics: list) -> tuple[Any, ...]:
        import cupy

        if self.vector is not None and all(
                a.flags.c_contiguous and a.data.ptr % 16 == 0 for a in leaves):
            kernel, lanes = self.vector
            shape = leaves[0].shape
            n = leaves[0].size
            outs = tuple(cupy.empty(shape, self.dtype) for _ in self.out_dtypes)
            if n:
                blocks = max(1, min(-(-(n // lanes) // 256), 2 ** 31 - 1))
                kernel((blocks,), (256,), (*leaves, *outs, *statics, np.int64(n)))
            return outs
        out = self.kernel(*leaves, *statics)
        return out if isinstance(out, tuple) else (out,)


_VECTOR = {"float32": ("float4", 4), "float64": ("double2", 2)}


def _vector_kernel(name: str, g: _trace.Graph, out_dtypes: list, statics: list,
                   static_name: dict, body: str) -> tuple[Any, int]:
    import cupy

    ctype = _ctype(g.in_dtypes[0] if g.in_dtypes else out_dtypes[0])
    vtype, lanes = _VECTOR[str(g.in_dtypes[0] if g.in_dtypes else out_dtypes[0])]
    n_in, n_out = len(g.in_dtypes), len(out_dtypes)
    snames = list(static_name.values())
    stypes = [_ctype(d) for _, _, d in statics]
    body_params = ([f"const {ctype} in{i}" for i in range(n_in)]
                   + [f"const {t} {s}" for t, s in zip(stypes, snames)]
                   + [f"{ctype}& out{k}" for k in range(n_out)])
    kernel_params = ([f"const {ctype}* __restrict__ p_in{i}" for i in range(n_in)]
                     + [f"{ctype}* __restrict__ p_out{k}" for k in range(n_out)]
                     + [f"const {t} {s}" for t, s in zip(stypes, snames)]
                     + ["const long long n"])
    lanes_xyzw = "xyzw"[:lanes]
    vec_loads = "\n".join(f"const {vtype} a{i} = reinterpret_cast<const {vtype}*>(p_in{i})[k];"
                          for i in range(n_in))
    vec_calls = "\n".join(
        "refopt_body(" + ", ".join([f"a{i}.{c}" for i in range(n_in)] + snames
                                   + [f"r{k}.{c}" for k in range(n_out)]) + ");"
        for c in lanes_xyzw)
    vec_stores = "\n".join(f"reinterpret_cast<{vtype}*>(p_out{k})[k] = r{k};" for k in range(n_out))
    tail_call = ("refopt_body(" + ", ".join([f"p_in{i}[k]" for i in range(n_in)] + snames
                                            + [f"p_out{k}[k]" for k in range(n_out)]) + ");")
    source = f"""
__device__ __forceinline__ void refopt_body({", ".join(body_params)}) {{
{body}
}}
extern "C" __global__ void {name}({", ".join(kernel_params)}) {{
  const long long nvec = n / {lanes};
  const long long stride = (long long)blockDim.x * gridDim.x;
  const long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  for (long long k = first; k < nvec; k += stride) {{
{vec_loads}
{"".join(f"{vtype} r{k}; " for k in range(n_out))}
{vec_calls}
{vec_stores}
  }}
  for (long long k = nvec * {lanes} + first; k < n; k += stride) {{
{tail_call}
  }}
}}
"""
    module = cupy.RawModule(code=source, options=("--fmad=false",))
    return module.get_function(name), lanes


def compile_graph(graph: _trace.Graph) -> Program:
    return Program(graph)
